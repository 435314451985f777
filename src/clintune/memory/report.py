"""What `clintune memory` shows: the settings checked at the door, the table, the verdict and the chart."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from clintune.config import RunConfig, load_config
from clintune.errors import ClintuneError
from clintune.memory.units import COMPONENTS, GIB, GPUS, parse_size

if TYPE_CHECKING:
    from clintune.memory.plan import MemoryPlan

METHODS = ("full", "lora", "qlora", "dora")
OPTIMIZERS = {"adamw": "adamw_torch", "adamw-8bit": "adamw_8bit", "paged-adamw-32bit": "paged_adamw_32bit",
              "paged-adamw-8bit": "paged_adamw_8bit", "sgd": "sgd"}
LABELS = {"weights": "weights", "quant_constants": "quantisation constants", "adapters": "adapters",
          "gradients": "gradients", "optimizer": "optimizer state", "activations": "activations",
          "overhead": "overhead (CUDA context, allocator)"}
COLOURS = {"weights": "#4e79a7", "quant_constants": "#76b7b2", "adapters": "#59a14f", "gradients": "#f28e2b",
           "optimizer": "#e15759", "activations": "#edc948", "overhead": "#bab0ac"}


@dataclass
class Target:
    device: str  # where the plan is for: "cuda" (with overhead) or "cpu"
    capacity: int | None
    label: str | None  # "t4 (15.0 GiB)"
    bf16: bool


def _choice(value: str, allowed, what: str) -> str:
    if value in allowed:
        return value
    close = difflib.get_close_matches(value, list(allowed), n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise ClintuneError(f"unknown {what} '{value}'", fix=f"{hint}choose one of {', '.join(allowed)}")


def gpu_target(gpu: str | None, gpu_memory: str | None, device: str) -> Target:
    if gpu and gpu_memory:
        raise ClintuneError("--gpu and --gpu-memory both given", fix="give one of them")
    if gpu:
        mib, bf16 = GPUS[_choice(gpu.lower(), GPUS, "GPU")]
        return Target("cuda", mib * 2**20, f"{gpu.lower()} ({mib * 2**20 / GIB:.1f} GiB)", bf16)
    if gpu_memory:
        try:
            capacity = parse_size(gpu_memory)
        except ValueError as exc:
            raise ClintuneError(f"--gpu-memory {exc}", fix="write it like 16GiB, 24GB or 15360MiB") from None
        return Target(device, capacity, f"{capacity / GIB:.1f} GiB", True)
    return Target(device, None, None, True)


def memory_config(model: str, method: str, lora_r: int | None, lora_targets: str, seq_len: int, batch_size: int,
                  checkpointing: bool, optimizer: str, dtype: str | None, quant: str, double_quant: bool,
                  target: Target, weights_dtype: str = "auto", loss: str = "auto",
                  optimizer_in_backward: bool = False, activation_offloading: bool = False) -> tuple[RunConfig, str]:
    """The RunConfig the plan is for, and the compute precision (by default the target's: bf16, fp16 on GPUs
    without bf16, and on a CPU what this CPU computes natively)."""
    method = _choice(method, METHODS, "method")
    optim = _choice(optimizer, OPTIMIZERS, "optimizer")
    quant = _choice(quant, ("nf4", "fp4"), "quantisation type")
    weights_dtype = _choice(weights_dtype, ("auto", "fp32", "bf16", "fp16"), "weights dtype")
    loss = _choice(loss, ("auto", "chunked", "fused", "plain"), "loss")
    if dtype:
        precision = _choice(dtype, ("bf16", "fp16", "fp32"), "dtype")
    elif target.device == "cpu" and target.capacity is None:
        from clintune.devices import resolve_precision

        precision = resolve_precision("auto", "cpu")
    else:
        precision = "bf16" if target.bf16 else "fp16"
    overrides = [f"model.name={model}", f"train.method={method}", f"train.max_length={seq_len}",
                 f"train.batch_size={batch_size}", f"train.gradient_checkpointing={checkpointing}",
                 f"train.optimizer={OPTIMIZERS[optim]}", f"train.precision={precision}", f"quant.type={quant}",
                 f"quant.double_quant={double_quant}", f"lora.targets={lora_targets}",
                 f"train.weights_dtype={weights_dtype}", f"train.loss={loss}",
                 f"train.activation_offloading={activation_offloading}"]
    if optimizer_in_backward:  # what it requires does not change the plan
        overrides += ["train.optimizer_in_backward=true", "train.grad_accum=1", "train.max_grad_norm=0"]
    if lora_r is not None:
        overrides.append(f"lora.r={lora_r}")
    return load_config(None, overrides), precision


def plan_table(plan: MemoryPlan, measured: dict | None = None) -> list[tuple[str, ...]]:
    """Rows of (component, bytes, GiB[, measured bytes, error %])."""
    rows = []
    for key in (*COMPONENTS, "total"):
        value = plan.bytes[key]
        row = (LABELS.get(key, "total (peak of a step)"), f"{value:,}", f"{value / GIB:.3f}")
        if measured is not None:
            seen = measured.get(key)
            error = f"{(value - seen) / seen * 100:+.1f}%" if seen else ""
            row += (f"{seen:,}" if seen is not None else "", error)
        rows.append(row)
    return rows


def headline(config: RunConfig, precision: str, plan: MemoryPlan) -> str:
    train = config.train
    how = train.method if train.method == "full" else f"{train.method} r={config.lora.r} on {config.lora.targets}"
    extras = [name for name, on in (("optimizer in backward", train.optimizer_in_backward),
                                    ("activation offloading", train.activation_offloading)) if on]
    return (f"{config.model.name}: {plan.params_total:,} parameters, {plan.params_trainable:,} trainable; {how}; "
            f"batch {train.batch_size} x {train.max_length} tokens; {precision} compute, weights in "
            f"{plan.weights_dtype}; {train.optimizer}; checkpointing "
            f"{'on' if train.gradient_checkpointing else 'off'}; {plan.loss} loss" + "".join(f"; {e}" for e in extras))


def plot_methods(plans: dict[str, MemoryPlan], path: Path, title: str, target: Target) -> None:
    """One stacked bar per method, components in GiB, with the GPU's memory as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from clintune.runs import write_figure

    figure, axis = plt.subplots(figsize=(7.5, 5))
    names = list(plans)
    bottoms = [0.0] * len(names)
    for key in COMPONENTS:
        values = [plans[n].bytes[key] / GIB for n in names]
        if not any(values):
            continue
        axis.bar(names, values, bottom=bottoms, label=LABELS[key], color=COLOURS[key], width=0.6)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    for index, total in enumerate(bottoms):
        axis.text(index, total, f"{total:.1f} GiB", ha="center", va="bottom", fontsize=10)
    if target.capacity:
        axis.axhline(target.capacity / GIB, color="black", linestyle="--", linewidth=1)
        axis.text(len(names) - 0.55, target.capacity / GIB, target.label, va="bottom", ha="right", fontsize=9)
    axis.set_ylabel("GiB (peak of one training step)")
    axis.set_title(title, fontsize=10)
    axis.set_ylim(0, max([*bottoms, (target.capacity or 0) / GIB]) * 1.15)
    handles, labels = axis.get_legend_handles_labels()
    axis.legend(handles[::-1], labels[::-1], fontsize=8, loc="upper right")
    figure.tight_layout()
    write_figure(path, figure)
    plt.close(figure)
