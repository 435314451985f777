"""Speed and memory of one SFT step: clintune's SFTTrainer setup vs TRL's SFTTrainer with its own defaults.

Both train the same LoRA (r=16, all projections) on the same tokenized Asclepius-template examples with the same
batch, in bf16 autocast where the CPU has it. Each variant runs in its own process so its peak RSS is its own.
  ours:       AnswerHeadSFTTrainer (vocabulary head on answer tokens only), left-padded, length-grouped
  ours-top15: the same with LoRA on the top 15 layers only (the demo's setting; backward stops half-way)
  baseline:   SFTTrainer's compute_loss (fused head over every position + entropy/accuracy metrics), TRL's collator
Everything else (bf16, no activation checkpointing, lr, LoRA r=16 on every projection) is the same explicit config.

Usage: python benchmarks/sft_step.py [--model smollm2-135m-instruct] [--steps 3] [--batch 4] [--json]
Prints seconds per step, tokens/s and peak RSS for each, and the ratios ours / baseline from the same run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time


def run_variant(variant: str, model_name: str, steps: int, batch: int) -> dict:
    import resource

    import torch
    from datasets import Dataset
    from trl import SFTTrainer

    from clintune.config import LoraSection, TrainSection
    from clintune.data.generate import generate_rows
    from clintune.devices import detect_device, use_bf16
    from clintune.models.load import load_model, load_tokenizer
    from clintune.prompts.templates import encode_example, render_prompt
    from clintune.train.adapters import add_lora
    from clintune.train.collator import LeftPaddingCollator
    from clintune.train.sft import AnswerHeadSFTTrainer, sft_config

    torch.manual_seed(0)
    tokenizer = load_tokenizer(model_name)
    top_layers = 15 if variant == "ours-top15" else None
    model = add_lora(load_model(model_name), LoraSection(top_layers=top_layers))
    rows = generate_rows(batch * (steps + 1), seed=7)
    data = Dataset.from_list(
        [encode_example(tokenizer, render_prompt(tokenizer, r["note"], r["question"]), r["answer"]) for r in rows]
    )
    device = detect_device()
    args = sft_config(TrainSection(max_steps=steps + 1, batch_size=batch, grad_accum=1), "/tmp/clintune-bench",
                      device, use_bf16("auto", device))
    args.disable_tqdm = True
    if variant.startswith("ours"):
        trainer = AnswerHeadSFTTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer,
                                       data_collator=LeftPaddingCollator(tokenizer.pad_token_id))
    else:
        args.train_sampling_strategy = "random"
        trainer = SFTTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer)
    times = []

    from transformers import TrainerCallback

    class Timer(TrainerCallback):
        def on_step_begin(self, *a, **k):
            self.t = time.perf_counter()

        def on_step_end(self, *a, **k):
            times.append(time.perf_counter() - self.t)

    trainer.add_callback(Timer())
    trainer.train()
    measured = times[1:]  # the first step pays one-off warm-up costs
    tokens = sum(len(ids) for ids in data["input_ids"]) / len(data) * batch
    seconds = sum(measured) / len(measured)
    return {"variant": variant, "s_per_step": seconds, "tokens_per_s": tokens / seconds,
            "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.model, args.steps, args.batch)))
        return
    results = {}
    for variant in ("ours", "ours-top15", "baseline"):
        command = [sys.executable, __file__, "--variant", variant, "--model", args.model, "--steps", str(args.steps),
                   "--batch", str(args.batch)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        results[variant] = json.loads(done.stdout.strip().splitlines()[-1])
    base = results["baseline"]
    ratios = {
        name: {
            "time_per_step_ratio": results[name]["s_per_step"] / base["s_per_step"],
            "peak_rss_ratio": results[name]["peak_rss_gib"] / base["peak_rss_gib"],
        }
        for name in ("ours", "ours-top15")
    }
    if args.json:
        print(json.dumps({"results": results, "ratios": ratios}, indent=2))
        return
    for r in results.values():
        print(f"{r['variant']:>10}: {r['s_per_step']:.2f} s/step, {r['tokens_per_s']:.0f} tokens/s, "
              f"peak RSS {r['peak_rss_gib']:.2f} GiB")
    for name, ratio in ratios.items():
        print(f"{name} / baseline: time per step {ratio['time_per_step_ratio']:.2f} "
              f"(speed-up {1 / ratio['time_per_step_ratio']:.2f}x), peak RSS {ratio['peak_rss_ratio']:.2f}")


if __name__ == "__main__":
    main()
