"""Training throughput: the course's recipe vs TRL SFTTrainer at its best vs a plain HF Trainer + PEFT script vs
clintune, on the same model and tokens.

    python benchmarks/train_throughput.py [--model smollm2-135m-instruct] [--examples 48] [--variants a,b] [--json]

Every setup trains LoRA r=16 (alpha 32) on every projection of the same model, on the same tokenized examples (prompt
+ answer + EOS, prompt masked), for one epoch, batch 2 x accumulation 8. Each runs in its own process, so its peak
memory is its own (VmHWM; on CUDA also torch.cuda.max_memory_allocated). Speed is real (non-pad) tokens per second
after the first optimizer step.

Rows, torchtune-style: each adds one change to the row above it.
  course      TRL SFTTrainer as the course ran it: fp32, pad per batch, random order
  +bf16       bf16 autocast (TRL's own default), the base still fp32
  +grouping   length-grouped batches
  +head       clintune's trainer: vocabulary head only at trained positions, chunked loss, no per-token metrics,
              left padding; the base still fp32 (clintune before 16-bit bases)
  +16bit      the frozen base held in bf16 (train.weights_dtype=auto): no per-step weight casts, half the memory
  +top15      LoRA on the top 15 of 30 layers only (the demo recipe), so backward stops half-way
Beside the chain, each a change to `+16bit` unless named: `packing` (padding-free packing instead of length grouping),
`dropout` (LoRA dropout 0.05); `trl-best`: SFTTrainer in bf16 with packing and padding-free batches, its fastest
setup; `hf-trainer`: the plain script a user of the libraries writes (transformers' Trainer, a PEFT model of the
model loaded as it comes in fp32, bf16 autocast, a padding collator, the model's own loss over every position).

MFU = achieved model FLOP/s / this machine's bf16 matmul peak, measured in the same run. Model FLOPs per real token
are one constant for every row (the work the course's recipe does): forward 2N + backward 2N for the N weights of
the decoder layers, plus the attention scores, plus the vocabulary head at the answer tokens; so MFU ratios are speed
ratios. `--model` takes a model folder too (benchmarks/random_model.py makes one for any config, e.g. the
Llama-3.2-1B shape on a GPU, where `--variants hf-trainer,+16bit` is the comparison that matters).
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
    "hf-trainer": dict(trainer="hf", precision="bf16", order="random", weights="fp32"),
}
OURS = "+top15"


def _vm_hwm_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _examples(tokenizer, n: int):
    from datasets import Dataset

    from clintune.data.generate import generate_rows
    from clintune.prompts.templates import encode_example, render_prompt

    rows = [r for r in generate_rows(n * 8, seed=7) if len(r["note"]) <= 800][:n]
    return Dataset.from_list([encode_example(tokenizer, render_prompt(tokenizer, r["note"], r["question"]),
                                             r["answer"]) for r in rows])


def run_variant(variant: str, model: str, n: int) -> dict:
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
    precision = setup["precision"]
    overrides = [f"model.name={model}", "lora.r=16", "lora.alpha=32", "train.batch_size=2", "train.grad_accum=8",
                 "train.save_steps=0", "train.lr=1e-4", f"train.packing={setup.get('packing') == 'ours'}",
                 f"lora.dropout={setup.get('dropout', 0.0)}", "train.max_length=2048",
                 f"lora.top_layers={setup.get('top_layers', 'null')}", f"train.weights_dtype={setup['weights']}"]
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
    (t0, k0), (t1, k1) = marks[0], marks[-1]
    return {"variant": variant, "tokens_per_s": (k1 - k0) / (t1 - t0), "steps": len(marks),
            "peak_rss_gib": _vm_hwm_bytes() / 2**30,
            "cuda_peak_gib": torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else None,
            "tokens": sum(len(x) for x in data["input_ids"]),
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


def flops_per_token(model: str, tokens: int, answer_tokens: int, n: int) -> float:
    from transformers import AutoConfig

    from clintune.models.registry import resolve_model

    cfg = AutoConfig.from_pretrained(resolve_model(model)).get_text_config()
    h, layers, inter, vocab = cfg.hidden_size, cfg.num_hidden_layers, cfg.intermediate_size, cfg.vocab_size
    kv = h * cfg.num_key_value_heads // cfg.num_attention_heads
    per_layer = h * h * 2 + h * kv * 2 + 3 * h * inter  # q, o; k, v; gate, up, down
    mean_len = tokens / n
    attention = 4 * layers * h * mean_len / 2  # QK^T and AV over the causal half, per token
    head = 2 * h * vocab * answer_tokens / tokens
    return 2 * (2 * per_layer * layers + attention) + 2 * head  # forward + backward (activation gradients)


def _ratio(results: dict, a: str, b: str, key: str = "tokens_per_s") -> float | None:
    return results[a][key] / results[b][key] if a in results and b in results and results[b][key] else None


def main() -> None:
    from clintune.privacy import disable_telemetry

    disable_telemetry()  # before any HF library loads: they read their switches at import time
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--examples", type=int, default=48)
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated rows; the first is the "
                        "baseline of the 'vs' column")
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.model, args.examples)))
        return
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        sys.exit(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")

    import torch

    from clintune.models.fetch import fetch_model
    from clintune.models.registry import KNOWN_MODELS

    if args.model in KNOWN_MODELS:
        fetch_model(args.model, say=lambda _: None)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    peak_bf16, peak_fp32 = matmul_peak_flops("bfloat16", device), matmul_peak_flops("float32", device)
    results = {}
    for variant in variants:
        done = subprocess.run([sys.executable, __file__, "--variant", variant, "--model", args.model,
                               "--examples", str(args.examples)], capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"variant {variant} failed:\n{done.stderr[-3000:]}")
        results[variant] = json.loads(done.stdout.strip().splitlines()[-1])
        if not args.json:
            print(f"{variant:10s} {results[variant]['tokens_per_s']:8.0f} tok/s  "
                  f"peak {results[variant]['peak_rss_gib']:.2f} GiB", file=sys.stderr)
    first = results[variants[0]]
    per_token = flops_per_token(args.model, first["tokens"], first["answer_tokens"], args.examples)
    for row in results.values():
        row["mfu"] = row["tokens_per_s"] * per_token / peak_bf16
    summary = {
        "model": args.model, "device": device, "examples": args.examples, "tokens": first["tokens"],
        "matmul_peak_gflops": {"bf16": peak_bf16 / 1e9, "fp32": peak_fp32 / 1e9},
        "flops_per_token": per_token,
        "ratio_vs_course": _ratio(results, OURS, "course"),
        "ratio_vs_trl": _ratio(results, OURS, "trl-best"),
        "ratio_vs_hf_trainer": _ratio(results, "+16bit", "hf-trainer"),
        "ratio_16bit_base": _ratio(results, "+16bit", "+head"),
        "memory_ratio_16bit_base": _ratio(results, "+16bit", "+head", "peak_rss_gib"),
        "mfu": results[OURS]["mfu"] if OURS in results else None,
        "rows": results,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    unit = "TFLOP/s" if device == "cuda" else "GFLOP/s"
    scale = 1e12 if device == "cuda" else 1e9
    print(f"{device}: bf16 matmul peak {peak_bf16 / scale:.0f} {unit} (fp32 {peak_fp32 / scale:.0f}); "
          f"{per_token / 1e6:.0f} MFLOP per real token")
    print(f"| setup | tokens/s | vs {variants[0]} | MFU | peak RSS | CUDA peak |")
    print("|---|---|---|---|---|---|")
    for name, row in results.items():
        cuda = f"{row['cuda_peak_gib']:.2f} GiB" if row.get("cuda_peak_gib") is not None else "-"
        print(f"| {name} | {row['tokens_per_s']:,.0f} | {row['tokens_per_s'] / first['tokens_per_s']:.2f}x | "
              f"{100 * row['mfu']:.0f}% | {row['peak_rss_gib']:.2f} GiB | {cuda} |")
    for label, key in (("ours / course", "ratio_vs_course"), ("ours / TRL best", "ratio_vs_trl"),
                       ("+16bit / hf-trainer", "ratio_vs_hf_trainer"), ("+16bit / +head (fp32 base)",
                                                                         "ratio_16bit_base"),
                       ("peak RSS +16bit / +head", "memory_ratio_16bit_base")):
        if summary[key] is not None:
            print(f"{label}: {summary[key]:.2f}x")


if __name__ == "__main__":
    main()
