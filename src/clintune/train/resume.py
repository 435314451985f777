"""Checkpoints that are safe to resume from.

The trainer writes a checkpoint folder file by file; a `kill -9` in the middle leaves a folder that looks like a
checkpoint but is not one. So a checkpoint counts only once clintune has written its commit marker, atomically,
after every file of it is on disk (see callbacks.CommitCheckpoints); resume takes the newest committed one and
discards any uncommitted leftovers. `train.keep_checkpoints` is at least 2, so the trainer's rotation can never
delete the last committed checkpoint while a newer one is still being written.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from clintune.runs import write_text

COMMIT_MARKER = "clintune-complete.json"
PREFIX = "checkpoint-"


def checkpoint_step(folder: Path) -> int:
    suffix = folder.name[len(PREFIX):]
    return int(suffix) if suffix.isdigit() else -1


def checkpoint_folders(stage_dir: Path) -> list[Path]:
    if not stage_dir.is_dir():
        return []
    folders = [p for p in stage_dir.iterdir()
               if p.is_dir() and p.name.startswith(PREFIX) and checkpoint_step(p) >= 0]
    return sorted(folders, key=checkpoint_step)


def last_complete_checkpoint(stage_dir: Path) -> Path | None:
    committed = [p for p in checkpoint_folders(stage_dir) if (p / COMMIT_MARKER).is_file()]
    return committed[-1] if committed else None


def discard_incomplete(stage_dir: Path) -> list[Path]:
    """Delete checkpoint folders without a commit marker; returns what was deleted."""
    removed = [p for p in checkpoint_folders(stage_dir) if not (p / COMMIT_MARKER).is_file()]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


def drop_logged_after(metrics: Path, stage: str, step: int) -> None:
    """A resumed stage replays the steps after its checkpoint: their lines from the interrupted attempt go, so every
    step is in metrics.jsonl once."""
    if not metrics.is_file():
        return
    kept = []
    for line in metrics.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # a line torn by the crash
            continue
        if not (record.get("stage") == stage and record.get("step", 0) > step):
            kept.append(line + "\n")
    write_text(metrics, "".join(kept))
