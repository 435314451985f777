"""The trainer's outputs, as transformers callbacks (its public extension point): committed checkpoints,
metrics.jsonl, train.log, TensorBoard events and a Rich progress bar with tokens/s and ETA. Only the main process
writes.
"""

from __future__ import annotations

import json
import math
import time
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from transformers import TrainerCallback

from clintune.runs import write_json
from clintune.train.resume import COMMIT_MARKER


class CommitCheckpoints(TrainerCallback):
    """Marks a checkpoint complete once the trainer has written all of it (on_save runs after the last file)."""

    def on_save(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if folder.is_dir():
                # A pickle of the arguments, not needed to resume (config.yaml holds them); keep checkpoints pickle-free
                # where the trainer allows it.
                (folder / "training_args.bin").unlink(missing_ok=True)
                write_json(folder / COMMIT_MARKER, {"step": state.global_step,
                                                    "time": datetime.now().isoformat(timespec="seconds")})


class MetricsLog(TrainerCallback):
    """Every logged dict as one JSON line tagged with its stage, step and the stage's planned steps (so a reader can
    tell progress and ETA), appended at once so a crash keeps what was logged."""

    def __init__(self, path: Path, stage: str):
        self.path, self.stage = path, stage

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and logs:
            record = {"stage": self.stage, "step": state.global_step, "max_steps": state.max_steps, **logs}
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")


class ProgressLog(TrainerCallback):
    """RUN/train.log: a plain line every `train.logging_steps` steps (step, loss, learning rate, tokens/s, elapsed,
    ETA), for whoever follows a run with `tail -f` or reads it after the terminal is gone."""

    def __init__(self, path: Path, stage: str):
        self.path, self.stage = path, stage

    def write(self, line: str) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(f"{datetime.now().isoformat(timespec='seconds')} {line}\n")

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.started, self.tokens_at_start, self.step_at_start = (time.perf_counter(), state.num_input_tokens_seen,
                                                                      state.global_step)
            resumed = f", resuming at step {state.global_step}" if state.global_step else ""
            self.write(f"stage {self.stage}: {state.max_steps} optimizer steps{resumed}")

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs or "loss" not in logs:
            return
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        done = state.global_step - self.step_at_start
        eta = elapsed / done * (state.max_steps - state.global_step) if done else float("nan")
        speed = (state.num_input_tokens_seen - self.tokens_at_start) / elapsed
        self.write(f"stage {self.stage} step {state.global_step}/{state.max_steps} loss {logs['loss']:.4f} "
                   f"lr {logs.get('learning_rate', float('nan')):.3g} {speed:,.0f} tok/s elapsed {elapsed:.0f} s "
                   f"eta {eta:.0f} s")

    def on_train_end(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.write(f"stage {self.stage}: finished at step {state.global_step}")


class RichProgress(TrainerCallback):
    """One bar per stage: optimizer steps, loss, real (non-pad) tokens per second, elapsed and ETA."""

    def __init__(self, stage: str, console: Console | None = None):
        self.stage = stage
        self.console = console or Console(stderr=True)
        self.progress: Progress | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"), TextColumn("{task.fields[speed]} tok/s"),
            TimeElapsedColumn(), TimeRemainingColumn(), console=self.console, transient=False,
        )
        self.progress.start()
        self.task = self.progress.add_task(self.stage, total=state.max_steps, completed=state.global_step,
                                           loss="-", speed="-")
        self.started, self.tokens_at_start = time.perf_counter(), state.num_input_tokens_seen

    def on_step_end(self, args, state, control, **kwargs):
        if self.progress is None:
            return
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        speed = (state.num_input_tokens_seen - self.tokens_at_start) / elapsed
        self.progress.update(self.task, completed=state.global_step, speed=f"{speed:,.0f}")

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.progress is not None and logs and "loss" in logs and math.isfinite(logs["loss"]):
            self.progress.update(self.task, loss=f"{logs['loss']:.3f}")

    def on_train_end(self, args, state, control, **kwargs):
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
