"""Does a 16-bit frozen base train like the fp32 one? The same LoRA run twice, same data, same seed, same compute
precision: once with the base in fp32 (clintune before 16-bit bases, `train.weights_dtype=fp32`) and once as now
(`auto`: the base in the compute dtype). Prints both loss curves, their largest relative gap, and each run's speed
and peak memory (each run in its own process).

    python benchmarks/lean_weights.py [--model smollm2-135m-instruct] [--steps 12] [--precision bf16] [--json]

bf16 needs a CPU with native bf16 (AVX512-BF16/AMX) to run at a useful speed; elsewhere it is emulated, about 100x
slower than fp32, and a SmolLM2 run takes hours.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def _vm_hwm_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def run_one(model: str, weights: str, steps: int, precision: str) -> dict:
    import logging
    import tempfile

    from datasets import Dataset

    from clintune.config import load_config
    from clintune.data.generate import generate_rows
    from clintune.models.load import load_tokenizer
    from clintune.train.run import train_stages

    logging.disable(logging.WARNING)
    tokenizer = load_tokenizer(model)
    # The tersest notes, as the demo keeps them: about 1 generated note in 11 is at most 800 characters.
    rows = Dataset.from_list([r for r in generate_rows(steps * 2 * 20, seed=3) if len(r["note"]) <= 800][:steps * 2])
    config = load_config(None, [f"model.name={model}", "lora.r=16", "lora.alpha=32", "lora.top_layers=15",
                                f"train.max_steps={steps}", "train.batch_size=2", "train.grad_accum=1",
                                "train.lr=1e-3", "train.save_steps=0", "train.warmup_ratio=0",
                                f"train.weights_dtype={weights}", f"train.precision={precision}"])
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        result = train_stages(config, tokenizer, rows, Path(out), "cpu", precision, say=lambda _: None)
        seconds = time.perf_counter() - start
    losses = [h["loss"] for h in result.log_history if "loss" in h]
    tokens = sum(len(tokenizer(r["note"])["input_ids"]) for r in rows)  # the notes dominate every example
    return {"weights": weights, "losses": losses, "seconds": seconds, "tokens_per_s_approx": tokens / seconds,
            "peak_rss_gib": _vm_hwm_bytes() / 2**30}


def main() -> None:
    from clintune.privacy import disable_telemetry

    disable_telemetry()  # before any HF library loads: they read their switches at import time
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--precision", default="bf16", choices=("bf16", "fp16", "fp32"))
    parser.add_argument("--weights", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.weights:
        print(json.dumps(run_one(args.model, args.weights, args.steps, args.precision)))
        return
    from clintune.models.fetch import fetch_model
    from clintune.models.registry import KNOWN_MODELS

    model = str(fetch_model(args.model, say=lambda _: None)) if args.model in KNOWN_MODELS else args.model
    runs = {}
    for weights in ("fp32", "auto"):
        done = subprocess.run([sys.executable, __file__, "--model", model, "--steps", str(args.steps),
                               "--precision", args.precision, "--weights", weights], capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"the {weights} run failed:\n{done.stderr[-3000:]}")
        runs[weights] = json.loads(done.stdout.strip().splitlines()[-1])
    old, new = runs["fp32"]["losses"], runs["auto"]["losses"]
    gap = max(abs(a - b) / a for a, b in zip(old, new, strict=True))
    summary = {"model": args.model, "precision": args.precision, "steps": args.steps, "max_relative_gap": gap,
               "speed_ratio": runs["fp32"]["seconds"] / runs["auto"]["seconds"],
               "memory_ratio": runs["auto"]["peak_rss_gib"] / runs["fp32"]["peak_rss_gib"], "runs": runs}
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print("step | fp32 base | 16-bit base")
    for step, (a, b) in enumerate(zip(old, new, strict=True), 1):
        print(f"{step:4d} | {a:9.4f} | {b:11.4f}")
    print(f"largest relative gap {100 * gap:.2f}%; 16-bit base / fp32 base: speed "
          f"{summary['speed_ratio']:.2f}x, peak RSS {summary['memory_ratio']:.2f}x "
          f"({runs['auto']['peak_rss_gib']:.2f} vs {runs['fp32']['peak_rss_gib']:.2f} GiB)")


if __name__ == "__main__":
    main()
