"""`clintune memory`: the memory plan of a training step, before any training (a thin command over api.plan_memory)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from clintune import api
from clintune.cli.console import out

GIB = 2**30


def memory(
    model: Annotated[str, typer.Option("--model", help="Model short name, folder, hub id (config only) or a "
                                       "config.json path.")],
    method: Annotated[str, typer.Option("--method", help="full, lora, qlora or dora.")] = "lora",
    lora_r: Annotated[int | None, typer.Option("--lora-r", min=1, help="LoRA rank (default: the config's, 16).")]
    = None,
    lora_targets: Annotated[str, typer.Option("--lora-targets", help="all-linear or names: q_proj,v_proj,...")]
    = "all-linear",
    seq_len: Annotated[int, typer.Option("--seq-len", min=1, help="Tokens per sequence.")] = 512,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Sequences per micro-batch.")] = 2,
    checkpointing: Annotated[bool, typer.Option("--gradient-checkpointing/--no-gradient-checkpointing")] = False,
    optimizer: Annotated[str, typer.Option("--optimizer", help="adamw, adamw-8bit, paged-adamw-32bit, "
                                           "paged-adamw-8bit or sgd.")] = "adamw",
    dtype: Annotated[str | None, typer.Option("--dtype", help="Compute dtype: bf16, fp16 or fp32 (default: bf16, "
                                              "fp16 on a T4).")] = None,
    quant: Annotated[str, typer.Option("--quant", help="QLoRA 4-bit type: nf4 or fp4.")] = "nf4",
    double_quant: Annotated[bool, typer.Option("--double-quant", help="QLoRA: quantise the constants too.")] = False,
    gpu: Annotated[str | None, typer.Option("--gpu", help="t4, l4, a10g, a100-40, a100-80, h100, rtx4090, "
                                            "rtx3090: say whether it fits.")] = None,
    gpu_memory: Annotated[str | None, typer.Option("--gpu-memory", help="Or the memory to fit in, e.g. 16GiB.")]
    = None,
    generate: Annotated[int, typer.Option("--generate-tokens", min=0, help="Inference: tokens generated after a "
                                          "prompt of --seq-len, for the KV cache line.")] = 256,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write a stacked bar chart (PNG): full, LoRA and "
                                              "QLoRA side by side.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON contract instead of the table.")] = False,
    measure: Annotated[bool, typer.Option("--measure", help="Also run real training steps here and show the "
                                          "measured components beside the estimate.")] = False,
    device: Annotated[str, typer.Option("--device", help="Plan for cuda (adds the CUDA overhead) or cpu.")] = "cuda",
    weights_dtype: Annotated[str, typer.Option("--weights-dtype", help="How the weights are held: auto (a frozen "
                                               "base in the compute dtype, full fine-tuning in fp32), fp32, bf16 "
                                               "(with full: pure bf16) or fp16.")] = "auto",
    loss: Annotated[str, typer.Option("--loss", help="auto, chunked, fused (liger-kernel, CUDA) or plain.")]
    = "auto",
    optimizer_in_backward: Annotated[bool, typer.Option("--optimizer-in-backward", help="Step each parameter "
                                                        "during backward (one gradient alive at a time).")] = False,
    activation_offloading: Annotated[bool, typer.Option("--activation-offloading", help="Saved activations in CPU "
                                                        "memory (CUDA).")] = False,
    stage: Annotated[str, typer.Option("--stage", help="sft (and pretrain), or a preference step after SFT: dpo "
                                       "(chosen and rejected in one forward) or kto.")] = "sft",
):
    """What a training step needs in memory, from the model's config alone (nothing is downloaded or allocated)."""
    report = api.plan_memory(model, method, lora_r, lora_targets, seq_len, batch_size, checkpointing, optimizer,
                             dtype, quant, double_quant, gpu, gpu_memory, generate, plot, measure, device,
                             weights_dtype, loss, optimizer_in_backward, activation_offloading, stage)
    plan, measured, target = report.plan, report.measured, report.target
    if as_json:
        result = plan.contract()
        if measured is not None:
            result["measured"] = measured
        out.print(json.dumps(result))
        return
    out.print(report.headline())
    table = Table(box=None, pad_edge=False)
    for column in ("component", "bytes", "GiB", *(("measured bytes", "error") if measured else ())):
        table.add_column(column, justify="left" if column == "component" else "right")
    for row in report.table():
        table.add_row(*row)
    out.print(table)
    offloaded = (f" ({plan.activations_offloaded / GIB:.3f} GiB more saved in CPU memory)"
                 if plan.activations_offloaded else "")
    out.print(f"activations: {plan.activations_saved / GIB:.3f} GiB saved for backward + "
              f"{plan.activations_transient / GIB:.3f} GiB transient (checkpoint recompute, the loss's logits)"
              f"{offloaded}")
    out.print(f"inference (batch {batch_size}, {seq_len} prompt + {generate} generated tokens): weights "
              f"{plan.inference_weights / GIB:.3f} GiB + KV cache {plan.kv_cache / GIB:.3f} GiB")
    if measured is not None:
        extra = ", ".join(f"{k} {v / GIB:.3f} GiB" for k, v in measured["bytes"].items()
                          if k in ("peak_rss", "cuda_max_allocated"))
        length = f"; TRL's sequences came to {measured['seq_len']} tokens" if "seq_len" in measured else ""
        out.print(f"measured on {measured['device']} ({measured['precision']}): {extra}{length}")
    if target.capacity is not None:
        verdict = "fits" if plan.fits else "does NOT fit"
        out.print(f"verdict: {verdict} on {target.label}: {plan.bytes['total'] / GIB:.2f} GiB needed")
        for line in report.suggestion_lines():
            out.print(line)
    if plot is not None:
        out.print(f"chart: {plot}")
