"""Score a run and its base on lm-evaluation-harness tasks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from clintune.bench.run import BenchResult, run_bench


def bench(run: Path, tasks: list[str], data_dir: Path | None = None, limit: int | None = None, base: bool = True,
          chat_template: bool = False, say: Callable[[str], None] = print) -> BenchResult:
    """lm-eval's `tasks` (names as lm-eval gives them, or the shortcuts `notes`, `clinical`, `kormedmcqa`) scored
    through a real `clintune serve`, for the run's base model (unless `base` is False) and for the run. Clinical
    benchmarks are read from `data_dir`/TASK/SPLIT.jsonl when given (the Hub is off by default); `limit` takes the
    first N documents of each task. Results in RUN/bench/results.json."""
    return run_bench(Path(run), tasks, data_dir, limit, base, chat_template, say)
