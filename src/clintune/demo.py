"""`clintune demo`: the whole Asclepius idea in one run, composed only of the pieces users call themselves.

synthetic notes -> base model answers held-out questions -> LoRA fine-tuning on TRL -> the same questions again,
with identical decoding -> metrics, adapter, loss curve and report in a run directory.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

import torch
from datasets import Dataset

from clintune.config import RunConfig, dump_config
from clintune.data.prepare import load_for_training, prepare, write_prepared
from clintune.devices import detect_device, use_bf16
from clintune.errors import ClintuneError
from clintune.evaluate.generate import generate_answers
from clintune.evaluate.metrics import Scorer, summarize
from clintune.evaluate.report import plot_loss, write_reports
from clintune.memory.measure import peak_rss_bytes, release_freed_memory
from clintune.models.fetch import fetch_model
from clintune.models.load import load_for_inference, load_tokenizer
from clintune.models.registry import KNOWN_MODELS
from clintune.prompts.preview import example_token_length
from clintune.prompts.templates import check_round_trip, encode_example, render_prompt
from clintune.runs import new_run_dir, set_status, write_json, write_jsonl, write_text
from clintune.train.adapters import count_parameters
from clintune.train.methods import describe, model_for_method
from clintune.train.sft import train_sft

TARGET_GAIN_POINTS = 25.0
Say = Callable[[str], None]

# The demo's own choices on top of the config defaults (a --config recipe replaces them). Adapting only the top 15 of
# SmolLM2's 30 layers stops the backward pass half-way: ~1.5x faster steps on a CPU (benchmarks/sft_step.py).
# The demo keeps the tersest notes (at most 800 characters; the course cut at 1,500 for phi-2 on a T4) so CPU steps
# stay short, and takes 60 optimizer steps of 4 examples: on 240 examples, twice the updates of batch 8 for the same
# compute, which lifted the held-out ROUGE-L gain from +25 to +35 points.
DEMO_OVERRIDES = ["lora.top_layers=15", "data.synthetic_rows=5000", "data.max_note_chars=800", "data.max_tokens=512",
                  "data.sample=336", "train.grad_accum=2"]

# --quick: the same pipeline on the tiny random model, sized to finish well under a minute.
QUICK_OVERRIDES = [
    "name=demo-quick",
    "model.name=tiny-random-llama",
    "lora.top_layers=null",
    "data.synthetic_rows=1000",
    "data.sample=80",
    "data.test_size=2",
    "train.epochs=2",
    "train.batch_size=8",
    "train.grad_accum=1",
    "train.lr=3e-3",
    "generation.max_new_tokens=24",
]


def encode_training_set(tokenizer, rows: Dataset, config: RunConfig) -> Dataset:
    """Tokenize prompt + answer + EOS; refuse (never truncate) examples longer than train.max_length."""
    chat = config.prompt.chat
    encoded = []
    for i, row in enumerate(rows):
        prompt = render_prompt(tokenizer, row["note"], row["question"], config.prompt.template, chat)
        example = encode_example(tokenizer, prompt, row["answer"], chat)
        check_round_trip(tokenizer, prompt, example, chat)
        if len(example["input_ids"]) > config.train.max_length:
            raise ClintuneError(
                f"training example {i} is {len(example['input_ids'])} tokens, over train.max_length="
                f"{config.train.max_length}",
                fix="raise train.max_length or filter long notes; answers are never truncated",
            )
        encoded.append(example)
    return Dataset.from_list(encoded)


def run_demo(config: RunConfig, out: Path | None = None, say: Say = print) -> tuple[Path, dict]:
    started = time.perf_counter()
    run_dir = new_run_dir(config.name, out)
    write_text(run_dir / "config.yaml", dump_config(config))
    set_status(run_dir, "running")
    try:
        metrics = _run(config, run_dir, say, started)
    except BaseException as exc:
        reason = exc.one_line() if isinstance(exc, ClintuneError) else type(exc).__name__
        set_status(run_dir, "failed", error=reason)
        raise
    set_status(run_dir, "finished")
    return run_dir, metrics


def _run(config: RunConfig, run_dir: Path, say: Say, started: float) -> dict:
    name = config.model.name
    if name in KNOWN_MODELS:
        fetch_model(name, say=say)
    tokenizer = load_tokenizer(name, trust_remote_code=config.model.trust_remote_code)
    device = detect_device()
    bf16 = use_bf16(config.train.bf16, device)
    # Both models generate from bf16 weights where bf16 is native: no per-step weight casts under autocast, half the
    # memory, and the same dtype for base and tuned, so the decoding is identical.
    eval_dtype = torch.bfloat16 if bf16 else torch.float32
    say(f"device {device}, bf16 {'on' if bf16 else 'off'}; run directory {run_dir}")

    timings: dict[str, float] = {}
    clock = time.perf_counter()
    # The same preparation as `clintune data prepare`: validation, filters, sampling, identifier scan, patient split.
    token_length = example_token_length(tokenizer, config.prompt.template, config.prompt.chat)
    prepared = prepare(load_for_training(config.data), config.data, token_length if config.data.max_tokens else None)
    write_prepared(prepared, run_dir / "data")
    train_rows, test_rows = prepared.splits["train"], prepared.splits["test"]
    say(f"data: {len(train_rows)} training and {len(test_rows)} held-out questions over "
        f"{len(set(test_rows['task']))} tasks, split by patient; card in {run_dir / 'data' / 'data_card.json'}")

    prompts = [render_prompt(tokenizer, r["note"], r["question"], config.prompt.template, config.prompt.chat)
               for r in test_rows]

    def answer(model, label: str) -> list[str]:  # one decoding setup for both models
        return generate_answers(model, tokenizer, prompts, chat=config.prompt.chat,
                                max_new_tokens=config.generation.max_new_tokens,
                                batch_size=config.generation.batch_size, label=label)

    model = load_for_inference(name, dtype=eval_dtype, trust_remote_code=config.model.trust_remote_code).to(device)
    base_answers = answer(model, "base model answers")
    timings["base_eval"], clock = time.perf_counter() - clock, time.perf_counter()
    peaks = {"base_eval": peak_rss_bytes() / 2**30}

    del model
    train_data = encode_training_set(tokenizer, train_rows, config)
    model = model_for_method(name, config, bf16)
    trainable, total = count_parameters(model)
    say(f"{describe(model, config)}: {trainable:,} trainable of {total:,} parameters")
    result = train_sft(model, tokenizer, train_data, config.train, run_dir / "checkpoints", device, bf16)
    # Full fine-tuning saves the whole model; the adapter methods save only the adapter (safetensors either way).
    saved = run_dir / ("model" if config.train.method == "full" else "adapter")
    model.save_pretrained(saved, safe_serialization=True)
    tokenizer.save_pretrained(saved)
    write_json(run_dir / "train_log.json", result.log_history)
    plot_loss(result.log_history, run_dir / "loss.png")
    with contextlib.suppress(OSError):  # the trainer's output folder stays only if it holds something
        (run_dir / "checkpoints").rmdir()
    timings["train"], clock = time.perf_counter() - clock, time.perf_counter()
    peaks["train"] = peak_rss_bytes() / 2**30

    # The tuned model is evaluated as every later step will use it: what the run directory holds, merged into a fresh
    # fp32 base for the adapter methods (never into 4-bit weights), then cast to the evaluation dtype.
    del model
    release_freed_memory()
    full = config.train.method == "full"
    model = load_for_inference(str(saved) if full else name, adapter=None if full else str(saved), dtype=eval_dtype,
                               trust_remote_code=config.model.trust_remote_code).to(device)
    tuned_answers = answer(model, "tuned model answers")
    timings["tuned_eval"] = time.perf_counter() - clock
    peaks["tuned_eval"] = peak_rss_bytes() / 2**30

    scorer = Scorer()
    tasks = test_rows["task"]
    base_scores = [scorer.score(p, r) for p, r in zip(base_answers, test_rows["answer"], strict=True)]
    tuned_scores = [scorer.score(p, r) for p, r in zip(tuned_answers, test_rows["answer"], strict=True)]
    base, tuned = summarize(base_scores, tasks), summarize(tuned_scores, tasks)
    gain = 100 * (tuned["overall"]["rouge_l"] - base["overall"]["rouge_l"])
    metrics = {
        "model": name,
        "base": base,
        "tuned": tuned,
        "gain_rouge_l_points": gain,
        "target_gain_points": TARGET_GAIN_POINTS,
        "meets_target": gain >= TARGET_GAIN_POINTS,
        "train": {"steps": result.steps, "seconds": result.seconds, "trainable_params": trainable,
                  "total_params": total, "examples": len(train_rows), "bf16": bf16, "device": device,
                  "lora_layers": config.lora.top_layers or "all", "method": config.train.method},
        "peak_rss_gib": peak_rss_bytes() / 2**30,
        "seconds_total": time.perf_counter() - started,
        "seconds_by_phase": timings,
        "peak_rss_gib_after_phase": peaks,
    }
    examples = [
        {**row, "base": b, "tuned": t}
        for row, b, t in zip(test_rows.to_list(), base_answers, tuned_answers, strict=True)
    ]
    write_jsonl(run_dir / "predictions.jsonl", examples)
    write_json(run_dir / "metrics.json", metrics)
    # One example per task in the report, so every task is shown.
    shown = {ex["task"]: ex for ex in reversed(examples)}
    write_reports(run_dir, metrics, list(shown.values()))
    return metrics
