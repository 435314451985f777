"""Training throughput, like for like: clintune against TRL's SFTTrainer at its best, a plain HF Trainer + PEFT
script and the course's recipe, on the same model, tokens and trained layers.

    python benchmarks/train_throughput.py [--model smollm2-135m-instruct] [--examples 88] [--precision auto]
                                          [--variants a,b] [--json]

Every setup trains LoRA r=16 (alpha 32) on every projection of the same model, on the same tokenized examples (prompt
+ answer + EOS, prompt masked), for one epoch at batch 2 without accumulation (88 examples: 44 optimizer steps, all
but the first timed; packed rows hold about two examples each and so take about 20 steps; the table says how many each
row timed, and a row under 10 is flagged). A LoRA optimizer step is a small part of a step's time, so one micro-batch
per step changes tokens/s little and lets every row time at least 10 steps. Each runs in its
own process, so its peak memory is its own (VmHWM; on CUDA also torch.cuda.max_memory_allocated). Speed is real
(non-pad) tokens per second.

Rows, torchtune-style: each adds one change to the row above it.
  course      TRL SFTTrainer as the course ran it: fp32, pad per batch, random order
  +bf16       bf16 autocast (TRL's own default), the base still fp32
  +grouping   length-grouped batches
  +head       clintune's trainer: vocabulary head only at trained positions, chunked loss, no per-token metrics,
              left padding; the base still fp32 (clintune before 16-bit bases)
  +16bit      the frozen base held in bf16 (train.weights_dtype=auto): no per-step weight casts, half the memory
  +top15      LoRA on the top 15 of 30 layers only (the demo recipe's choice), so backward stops half-way
Beside the chain: `trl-best` (SFTTrainer in 16-bit with packing and padding-free batches, its fastest setup, LoRA on
every layer), `trl-best-top15` (the same with LoRA on the top 15 layers, the demo recipe's work), `hf-trainer` (the
plain script a user of the libraries writes: transformers' Trainer, the PEFT model of the model as it loads, autocast,
a padding collator, the model's own loss), and on request `packing` and `dropout` (changes to the last all-layer row).

Like for like: each speedup is against a baseline training the same layers on the same tokens (all layers: clintune's
last all-layer row vs trl-best and hf-trainer; top 15: +top15 vs trl-best-top15). What the recipe's own choices buy
(+top15 over all layers, the 16-bit base) is reported apart.

--precision auto computes in bf16 where the device does it natively (a GPU, or a CPU with AVX512-BF16/AMX) and in fp32
elsewhere: bf16 emulated on a CPU runs ~100x slower than fp32 and would measure the emulation. In fp32 the +bf16 and
+16bit rows would repeat the row above them, so they are left out.

MFU per row = that row's own model FLOP/s / the measured matmul peak of that row's dtype, both in this run. A row's
FLOPs per real token count what it computes: forward through every decoder layer (2N for the N weights of a layer,
plus attention scores), backward (activation gradients, 2N) only through the layers from the lowest one with an
adapter upward, and the vocabulary head forward and backward at every position (TRL, HF) or at the answer positions
only (clintune). Adapter FLOPs (r=16) are under 2% and left out. `--model` takes a model folder too
(benchmarks/random_model.py makes one for any config, e.g. the Llama-3.2-1B shape on a GPU).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

# trainer: TRL's own SFTTrainer, the plain HF Trainer, or clintune's; order: random or length-grouped; packing: none,
# clintune's padding-free collator, or TRL's bfd packing with padding-free batches; weights: how the base is held.
VARIANTS = {
    "course": dict(trainer="trl", precision="fp32", order="random", weights="fp32"),
    "+bf16": dict(trainer="trl", precision="bf16", order="random", weights="fp32"),
    "+grouping": dict(trainer="trl", precision="bf16", order="group", weights="fp32"),
    "+head": dict(trainer="ours", precision="bf16", order="group", weights="fp32"),
    "+16bit": dict(trainer="ours", precision="bf16", order="group", weights="auto"),
    "+top15": dict(trainer="ours", precision="bf16", order="group", weights="auto", top_layers=15),
    "packing": dict(trainer="ours", precision="bf16", order="random", weights="auto", packing="ours"),
    "dropout": dict(trainer="ours", precision="bf16", order="group", weights="auto", dropout=0.05),
    "trl-best": dict(trainer="trl", precision="bf16", order="random", weights="fp32", packing="trl"),
    "trl-best-top15": dict(trainer="trl", precision="bf16", order="random", weights="fp32", packing="trl",
                           top_layers=15),
    "hf-trainer": dict(trainer="hf", precision="bf16", order="random", weights="fp32"),
}
DEFAULT_ROWS = ("course", "+bf16", "+grouping", "+head", "+16bit", "+top15", "trl-best", "trl-best-top15",
                "hf-trainer")
SIXTEEN_BIT_ONLY = ("+bf16", "+16bit")  # in fp32 they repeat the row above


def _vm_hwm_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _examples(tokenizer, n: int):
    from datasets import Dataset

    from clintune.data.generate import generate_rows
    from clintune.prompts.templates import encode_example, render_prompt

    rows, generated = [], n
    while len(rows) < n:  # the tersest notes, as the demo keeps them; generate more until n are that short
        generated *= 4
        rows = [r for r in generate_rows(generated, seed=7) if len(r["note"]) <= 800][:n]
    return Dataset.from_list([encode_example(tokenizer, render_prompt(tokenizer, r["note"], r["question"]),
                                             r["answer"]) for r in rows])


def run_variant(variant: str, model: str, n: int, compute: str, grad_accum: int = 1) -> dict:
    import torch
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainerCallback
    from trl import SFTTrainer

    from clintune.config import load_config
    from clintune.devices import detect_device
    from clintune.models.load import load_tokenizer
    from clintune.train.collator import LeftPaddingCollator, PaddingFreeCollator
    from clintune.train.methods import model_for_method
    from clintune.train.trainer import ClintuneTrainer, StepOptions, trainer_config

    torch.manual_seed(0)
    setup = VARIANTS[variant]
    device = detect_device()
    precision = setup["precision"] if compute != "fp32" else "fp32"
    weights = setup["weights"] if compute != "fp32" else "fp32"
    overrides = [f"model.name={model}", "lora.r=16", "lora.alpha=32", "train.batch_size=2",
                 f"train.grad_accum={grad_accum}", "train.save_steps=0", "train.lr=1e-4",
                 f"train.packing={setup.get('packing') == 'ours'}",
                 f"lora.dropout={setup.get('dropout', 0.0)}", "train.max_length=2048",
                 f"lora.top_layers={setup.get('top_layers', 'null')}", f"train.weights_dtype={weights}"]
    config = load_config(None, overrides)
    tokenizer = load_tokenizer(model)
    data = _examples(tokenizer, n)
    net = model_for_method(model, config, precision)
    args = trainer_config(config, "sft", Path("/tmp/clintune-bench"), device, precision)
    args.logging_steps = 1000
    args.train_sampling_strategy = "group_by_length" if setup["order"] == "group" else "random"
    padding_free = setup.get("packing") is not None
    args.include_num_input_tokens_seen = "all" if padding_free else "non_padding"
    if setup["trainer"] == "trl":
        if setup.get("packing") == "trl":
            args.packing, args.padding_free, args.max_length = True, True, 1024
        trainer = SFTTrainer(model=net, args=args, train_dataset=data, processing_class=tokenizer)
    elif setup["trainer"] == "hf":
        collator = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)
        trainer = Trainer(model=net, args=args, train_dataset=data, data_collator=collator)
    else:
        collator = PaddingFreeCollator() if config.train.packing else LeftPaddingCollator(tokenizer.pad_token_id)
        trainer = ClintuneTrainer(model=net, args=args, train_dataset=data, processing_class=tokenizer,
                                  data_collator=collator, step=StepOptions.from_config(config))

    marks: list[tuple[float, int]] = []

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if device == "cuda":
                torch.cuda.synchronize()
            marks.append((time.perf_counter(), state.num_input_tokens_seen))

    trainer.add_callback(Clock())
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    trainer.train()
    (t0, k0), (t1, k1) = marks[0], marks[-1]  # from the end of the first optimizer step to the end of the last
    return {"variant": variant, "tokens_per_s": (k1 - k0) / (t1 - t0), "steps": len(marks),
            "timed_steps": len(marks) - 1, "precision": precision, "top_layers": setup.get("top_layers"),
            "head_positions": "answer" if setup["trainer"] == "ours" else "all",
            "peak_rss_gib": _vm_hwm_bytes() / 2**30,
            "cuda_peak_gib": torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else None,
            "examples": len(data), "tokens": sum(len(x) for x in data["input_ids"]),
            "answer_tokens": sum(sum(1 for y in x if y != -100) for x in data["labels"])}


def matmul_peak_flops(dtype_name: str, device: str = "cpu", repeats: int = 20) -> float:
    import torch

    size = 8192 if device == "cuda" else 2048
    dtype = getattr(torch, dtype_name)
    a, b = (torch.randn(size, size, dtype=dtype, device=device) for _ in range(2))
    for _ in range(3):
        a @ b
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    if device == "cuda":
        torch.cuda.synchronize()
    return 2 * size**3 * repeats / (time.perf_counter() - start)


def flops_per_token(model: str, row: dict, n: int) -> float:
    """The model FLOPs this row computes per real token (see the module docstring)."""
    from transformers import AutoConfig

    from clintune.models.registry import resolve_model

    cfg = AutoConfig.from_pretrained(resolve_model(model)).get_text_config()
    h, layers, inter, vocab = cfg.hidden_size, cfg.num_hidden_layers, cfg.intermediate_size, cfg.vocab_size
    kv = h * cfg.num_key_value_heads // cfg.num_attention_heads
    per_layer = 2 * (h * h * 2 + h * kv * 2 + 3 * h * inter)  # 2 FLOPs per weight: q, o; k, v; gate, up, down
    attention = 4 * h * (row["tokens"] / n) / 2  # QK^T and AV over the causal half, per token and layer
    backward_layers = row["top_layers"] or layers
    head_share = row["answer_tokens"] / row["tokens"] if row["head_positions"] == "answer" else 1.0
    forward = layers * (per_layer + attention) + 2 * h * vocab * head_share
    backward = backward_layers * (per_layer + 2 * attention) + 2 * h * vocab * head_share
    return forward + backward


def _ratio(results: dict, a: str, b: str, key: str = "tokens_per_s") -> float | None:
    return results[a][key] / results[b][key] if a in results and b in results and results[b][key] else None


def main() -> None:
    from clintune.privacy import disable_telemetry

    disable_telemetry()  # before any HF library loads: they read their switches at import time
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--examples", type=int, default=88, help="88 examples = 44 optimizer steps of 2")
    parser.add_argument("--grad-accum", type=int, default=1, help="micro-batches of 2 per optimizer step; keep "
                        "examples / (4 x this) >= 11 so packed rows time 10 steps too")
    parser.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto")
    parser.add_argument("--variants", default=",".join(DEFAULT_ROWS), help="comma-separated rows; the first is the "
                        "baseline of the 'vs' column")
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--compute", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.model, args.examples, args.compute, args.grad_accum)))
        return
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        sys.exit(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")


    from clintune.devices import detect_device, resolve_precision
    from clintune.models.fetch import fetch_model
    from clintune.models.registry import KNOWN_MODELS

    if args.model in KNOWN_MODELS:
        fetch_model(args.model, say=lambda _: None)
    device = detect_device()
    compute = resolve_precision("auto", device) if args.precision == "auto" else args.precision
    compute = "bf16" if compute == "fp16" else compute  # the rows' 16-bit dtype
    if compute == "fp32":
        variants = [v for v in variants if v not in SIXTEEN_BIT_ONLY]
    peaks = {"bf16": matmul_peak_flops("bfloat16", device) if compute == "bf16" else None,
             "fp32": matmul_peak_flops("float32", device)}
    results = {}
    for variant in variants:
        done = subprocess.run([sys.executable, __file__, "--variant", variant, "--model", args.model,
                               "--examples", str(args.examples), "--compute", compute, "--grad-accum",
                               str(args.grad_accum)], capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"variant {variant} failed:\n{done.stderr[-3000:]}")
        results[variant] = json.loads(done.stdout.strip().splitlines()[-1])
        if not args.json:
            print(f"{variant:15s} {results[variant]['tokens_per_s']:8.0f} tok/s  "
                  f"peak {results[variant]['peak_rss_gib']:.2f} GiB", file=sys.stderr)
    for row in results.values():
        row["flops_per_token"] = flops_per_token(args.model, row, row["examples"])
        row["mfu"] = row["tokens_per_s"] * row["flops_per_token"] / peaks[row["precision"]]
    all_layers = "+16bit" if "+16bit" in results else "+head"
    summary = {
        "model": args.model, "device": device, "compute": compute, "examples": args.examples,
        "batch": f"2 x {args.grad_accum}",
        "tokens": results[variants[0]]["tokens"],
        "matmul_peak_gflops": {k: v / 1e9 for k, v in peaks.items() if v},
        "like_for_like": {
            "all layers: clintune / trl-best": _ratio(results, all_layers, "trl-best"),
            "all layers: clintune / hf-trainer": _ratio(results, all_layers, "hf-trainer"),
            "all layers: clintune / course": _ratio(results, all_layers, "course"),
            "top 15 layers: clintune / trl-best-top15": _ratio(results, "+top15", "trl-best-top15"),
        },
        "recipe_choices": {
            "top 15 layers instead of all (clintune)": _ratio(results, "+top15", all_layers),
            "top 15 layers instead of all (TRL)": _ratio(results, "trl-best-top15", "trl-best"),
            "16-bit frozen base: speed": _ratio(results, "+16bit", "+head"),
            "16-bit frozen base: peak memory": _ratio(results, "+16bit", "+head", "peak_rss_gib"),
        },
        "rows": results,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    first = results[variants[0]]
    unit, scale = ("TFLOP/s", 1e12) if device == "cuda" else ("GFLOP/s", 1e9)
    measured = ", ".join(f"{k} {v / scale:.0f} {unit}" for k, v in peaks.items() if v)
    print(f"{device}, rows computing in {compute}: matmul peak {measured}; optimizer steps of 2 x {args.grad_accum} "
          "sequences (a packed sequence holds several examples)")
    print(f"| setup | layers trained | timed steps | tokens/s | vs {variants[0]} | MFLOP/token | MFU | peak RSS | "
          "CUDA peak |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, row in results.items():
        cuda = f"{row['cuda_peak_gib']:.2f} GiB" if row.get("cuda_peak_gib") is not None else "-"
        print(f"| {name} | {row['top_layers'] or 'all'} | {row['timed_steps']} | {row['tokens_per_s']:,.0f} | "
              f"{row['tokens_per_s'] / first['tokens_per_s']:.2f}x | {row['flops_per_token'] / 1e6:.0f} | "
              f"{100 * row['mfu']:.0f}% ({row['precision']}) | {row['peak_rss_gib']:.2f} GiB | {cuda} |")
    for title, block in (("like for like (same layers, same tokens)", summary["like_for_like"]),
                         ("what the recipe's choices buy", summary["recipe_choices"])):
        print(f"{title}:")
        for label, value in block.items():
            if value is not None:
                print(f"  {label}: {value:.2f}x")
    for name, row in results.items():
        if row["timed_steps"] < 10:
            print(f"WARNING: {name} timed only {row['timed_steps']} optimizer steps (goal: at least 10); raise "
                  "--examples or lower --grad-accum")


if __name__ == "__main__":
    main()
