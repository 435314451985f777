"""Evaluation speed: batched generation ÷ one-at-a-time generation, same outputs, on SmolLM2-135M on this CPU.

64 held-out examples (clintune's generator, the demo's filters: notes up to 800 characters), the Asclepius template
in the chat template, greedy, 48 new tokens, bf16 where the CPU has it. Both sides call the same
`evaluate.generate.generate_answers` (greedy: `evaluate.greedy.greedy_batch`): one-at-a-time is batch size 1 in prompt
order, batched is length-sorted batches of 16 that prefill the template's shared opening once and drop answers as they
end. The outputs must be identical. Also printed: the same two runs asked for 1 new token, i.e. prompt prefill alone,
which bounds what batching can gain (prefill is compute-bound: a token costs the same in a batch of 1 or of 16), and
examples/s of the metric computation (every metric of `clintune score`, with 1,000 bootstrap resamples).
Goal (issues 7 and 17): batched ≥ 4× one-at-a-time, with identical outputs.

Usage: python benchmarks/eval_throughput.py [--examples 64] [--batch-size 16] [--dtype auto|bf16|fp32] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import time


def main() -> None:
    from clintune.privacy import disable_telemetry

    disable_telemetry()  # before any HF library loads: they read their switches at import time
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--dtype", choices=("auto", "bf16", "fp32"), default="auto",
                        help="auto: bf16 where the CPU has it")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    import torch

    from clintune.data.generate import generate_rows
    from clintune.devices import bf16_available
    from clintune.evaluate.generate import Decoding, generate_answers
    from clintune.evaluate.scores import score_predictions
    from clintune.models.fetch import fetch_model
    from clintune.models.load import load_model, load_tokenizer
    from clintune.prompts.templates import render_prompt

    path = str(fetch_model("smollm2-135m-instruct", say=lambda _: None))
    tokenizer = load_tokenizer(path)
    bf16 = args.dtype == "bf16" or (args.dtype == "auto" and bf16_available("cpu"))
    dtype = torch.bfloat16 if bf16 else torch.float32
    model = load_model(path, dtype=dtype).eval()
    rows = [r for r in generate_rows(2000, seed=77) if len(r["note"]) <= 800][: args.examples]
    prompts = [render_prompt(tokenizer, r["note"], r["question"]) for r in rows]
    decoding = Decoding(max_new_tokens=args.max_new_tokens)

    def timed(batch_size: int, decoding: Decoding) -> tuple[list[str], float]:
        start = time.perf_counter()
        answers = generate_answers(model, tokenizer, prompts, chat=True, batch_size=batch_size, decoding=decoding)
        return answers, time.perf_counter() - start

    generate_answers(model, tokenizer, prompts[:2], chat=True, batch_size=2, decoding=decoding)  # warm-up
    single, single_seconds = timed(1, decoding)
    batched, batched_seconds = timed(args.batch_size, decoding)
    _, single_prefill = timed(1, Decoding(max_new_tokens=1))
    _, batched_prefill = timed(args.batch_size, Decoding(max_new_tokens=1))
    start = time.perf_counter()
    score_predictions(batched, [r["answer"] for r in rows], [r["task"] for r in rows])
    metric_rate = len(rows) / (time.perf_counter() - start)
    result = {"speedup": single_seconds / batched_seconds, "same_outputs": batched == single,
              "examples": len(rows), "single_seconds": single_seconds, "batched_seconds": batched_seconds,
              "batch_size": args.batch_size, "dtype": str(dtype).removeprefix("torch."),
              "single_prefill_seconds": single_prefill, "batched_prefill_seconds": batched_prefill,
              "speedup_bound": single_seconds / batched_prefill,
              "metric_examples_per_second": metric_rate}
    if args.json:
        print(json.dumps(result))
        return
    print(f"{len(rows)} examples, {args.max_new_tokens} new tokens, {result['dtype']}: one at a time "
          f"{single_seconds:.1f} s, batched by {args.batch_size} {batched_seconds:.1f} s -> "
          f"{result['speedup']:.2f}x; same outputs: {result['same_outputs']}")
    print(f"prefill alone (1 new token): one at a time {single_prefill:.1f} s, batched {batched_prefill:.1f} s; so "
          f"batched cannot beat {result['speedup_bound']:.2f}x even if decoding were free")
    print(f"metrics (every `clintune score` metric, 1,000 bootstrap resamples): {metric_rate:,.0f} examples/s")
    print(f"goal >= 4x: {'met' if result['speedup'] >= 4 else 'NOT met'}")


if __name__ == "__main__":
    main()
