"""`clintune bench RUN --tasks ...`: EleutherAI's lm-evaluation-harness against `clintune serve`, base vs tuned.

tasks (the local ones written, the user's copies of the clinical benchmarks pointed at) -> for the base model, then
for the run: a real `clintune serve` on a free loopback port -> `python -m lm_eval --model local-completions` over
its /v1/completions (log-likelihood and generation; the server's own tokenizer through /tokenizer_info and
/tokenize) -> the harness's results -> the server stopped. Then one table, each task's metrics for base and tuned, in
RUN/bench/results.json (which the report shows) and on the terminal. Logs of both servers and both harness runs go to
RUN/bench/bench.log.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from clintune.bench.tasks import SHORTCUTS, expand, write_local_copies, write_note_tasks
from clintune.config import load_config
from clintune.errors import ClintuneError
from clintune.privacy import hub_offline
from clintune.runs import staged_folder, write_json
from clintune.serve.background import start_background_server

Say = Callable[[str], None]
LOCAL = set(SHORTCUTS["notes"])


@dataclass
class BenchResult:
    folder: Path
    rows: list[dict]  # {"task", "metric", "base", "tuned", "base_stderr", "tuned_stderr"}


def run_bench(run_dir: Path, tasks: list[str], data_dir: Path | None = None, limit: int | None = None,
              base: bool = True, chat_template: bool = False, say: Say = print) -> BenchResult:
    if importlib.util.find_spec("lm_eval") is None:
        raise ClintuneError("lm-evaluation-harness is not installed", fix="pip install 'lm-eval[api]'")
    config_path = run_dir / "config.yaml"
    if not config_path.is_file():
        raise ClintuneError("not a clintune run directory (no config.yaml)", where=str(run_dir),
                            fix="pass the folder a training run wrote")
    names = expand(tasks)
    remote = [name for name in names if name not in LOCAL]
    if remote and data_dir is None and hub_offline():
        raise ClintuneError(f"{', '.join(remote)} read their data from the Hugging Face Hub, which is off here",
                            fix="give --data-dir DIR holding DIR/TASK/test.jsonl for each task (docs/serve.md)")
    sides = ([("base", ["--model", load_config(config_path).model.name])] if base else []) + [
        ("tuned", ["--run", str(run_dir)])]
    out = run_dir / "bench"
    with staged_folder(out, replaces=("results.json",)) as staging:
        tasks_dir = staging / "tasks"
        if LOCAL & set(names):
            write_note_tasks(tasks_dir)
        if remote and data_dir is not None:
            write_local_copies(remote, Path(data_dir), tasks_dir)
        log = staging / "bench.log"
        results = {}
        for side, serve_args in sides:
            say(f"{side}: starting clintune serve {' '.join(serve_args)}")
            with _served(serve_args, log) as (url, model_id):
                say(f"{side}: lm-eval on {', '.join(names)} through {url}/v1/completions (its log: {log})")
                results[side] = _lm_eval(url, model_id, names, tasks_dir, staging / side, limit, chat_template, log)
        rows = _rows(results, names)
        write_json(staging / "results.json", {"run": str(run_dir), "tasks": names, "limit": limit,
                                              "data_dir": str(data_dir) if data_dir else None,
                                              "chat_template": chat_template, "lm_eval": _version(), "rows": rows})
    return BenchResult(out, rows)


@contextlib.contextmanager
def _served(serve_args: list[str], log: Path) -> Iterator[tuple[str, str]]:
    with log.open("a", encoding="utf-8") as sink:
        # The server's stderr goes to the log: a pipe nobody reads would fill with access lines and stall it.
        process, url = start_background_server(*serve_args, stderr=sink)
        try:
            model_id = httpx.get(f"{url}/v1/models", timeout=30).json()["data"][0]["id"]
            yield url, model_id
        finally:
            process.terminate()
            process.wait(timeout=60)


def _lm_eval(url: str, model_id: str, tasks: list[str], tasks_dir: Path, out: Path, limit: int | None,
             chat_template: bool, log: Path) -> dict:
    model_args = (f"model={model_id},base_url={url}/v1/completions,num_concurrent=1,max_retries=3,"
                  "tokenizer_backend=remote")
    command = [sys.executable, "-m", "lm_eval", "--model", "local-completions", "--model_args", model_args,
               "--tasks", ",".join(tasks), "--output_path", str(out), "--seed", "0"]
    if tasks_dir.is_dir():
        command += ["--include_path", str(tasks_dir)]
    if limit:
        command += ["--limit", str(limit)]
    if chat_template:
        command.append("--apply_chat_template")
    with log.open("a", encoding="utf-8") as sink:
        sink.write(f"$ {' '.join(command)}\n")
        sink.flush()
        done = subprocess.run(command, stdout=sink, stderr=subprocess.STDOUT, env={**os.environ})
    found = sorted(out.glob("**/results_*.json"))
    if done.returncode != 0 or not found:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise ClintuneError(f"lm-eval failed: {tail[0][:300]}", where=str(log), fix="see the log")
    return json.loads(found[-1].read_text(encoding="utf-8"))["results"]


def _rows(results: dict[str, dict], tasks: list[str]) -> list[dict]:
    """One row per task and metric, base beside tuned (lm-eval's keys are "metric,filter")."""
    rows = []
    for task in tasks:
        tuned = results["tuned"].get(task, {})
        for key, value in tuned.items():
            stderr_key = key.replace(",", "_stderr,", 1)
            if stderr_key not in tuned or stderr_key == key:  # a metric has its stderr; sample_len and alias do not
                continue
            base = results.get("base", {}).get(task, {})
            rows.append({"task": task, "metric": key.removesuffix(",none"), "base": base.get(key),
                         "tuned": value, "base_stderr": _number(base.get(stderr_key)),
                         "tuned_stderr": _number(tuned.get(stderr_key))})
    return rows


def _number(value) -> float | None:
    return value if isinstance(value, (int, float)) else None


def _version() -> str:
    from importlib.metadata import version

    return f"lm-eval=={version('lm_eval')}"
