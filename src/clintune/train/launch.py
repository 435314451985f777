"""`clintune train --nproc N`: the same command, relaunched under torchrun as N data-parallel processes.

The parent prepares what every rank needs once (the model in the cache, an empty run directory), then starts
`python -m torch.distributed.run --standalone --nproc_per_node N -m clintune train ... --out RUN_DIR`. Inside, the
HF trainer sets up DDP through accelerate (gloo on CPU, NCCL on GPUs), or FSDP / DeepSpeed ZeRO when the recipe asks.
torchrun rather than `accelerate launch`: on a CPU, `accelerate launch --cpu --num_processes 2` silently starts one.

A rank's error is one line in run.json; the parent re-raises it as that one line, never as torchrun's traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from clintune.config import RunConfig
from clintune.errors import ClintuneError
from clintune.memory.plan import MemoryCheck
from clintune.models.fetch import fetch_model
from clintune.models.registry import KNOWN_MODELS
from clintune.runs import read_status
from clintune.train.run import Say, open_run, run_training

# Lines after which torchrun only repeats a child's failure as a Python traceback.
_TRACEBACK_STARTS = ("Traceback (most recent call last)", "torch.distributed.elastic", "[rank", "E1", "W1")


def inside_launch() -> bool:
    return "LOCAL_RANK" in os.environ


def relaunch(nproc: int, child_args: list[str], run_dir: Path) -> None:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               "-m", "clintune", "train", *child_args]
    log = run_dir / "launcher.log"
    with log.open("w", encoding="utf-8") as kept:
        process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, bufsize=1)
        echoing = True
        for line in process.stderr:
            kept.write(line)
            if line.startswith(_TRACEBACK_STARTS):
                echoing = False
            if echoing:
                sys.stderr.write(line)
        code = process.wait()
    if code != 0:
        error = read_status(run_dir).get("error", "")
        if " " in error:  # a rank's own one-line ClintuneError: what, where, how to fix
            raise ClintuneError(error)
        raise ClintuneError(f"a training process failed ({error or f'exit code {code}'})", where=str(log),
                            fix="see the launcher log for each rank's output")


def train_command(config: RunConfig, recipe: str, overrides: list[str], out: Path | None = None,
                  resume: bool = False, say: Say = print, memory: MemoryCheck | None = None) -> Path:
    """`clintune train`: one process here, or N under torchrun when distributed.nproc (or --nproc) says so."""
    if config.distributed.nproc == 1 or inside_launch():
        return run_training(config, out, resume, say, memory)
    if config.model.name in KNOWN_MODELS:
        fetch_model(config.model.name, say=say)  # once, before N processes would race to fetch it
    run_dir = open_run(config, out, resume)
    child = [str(recipe), *overrides, "--out", str(run_dir)] + (["--resume"] if resume else [])
    if config.data.allow_phi:
        child += ["--allow-phi", config.data.allow_phi]
    if memory and memory.limit is not None:
        child += ["--max-memory", str(memory.limit)]
    if memory and memory.force:
        child.append("--force")
    say(f"launching {config.distributed.nproc} processes with torchrun; run directory {run_dir}")
    relaunch(config.distributed.nproc, child, run_dir)
    return run_dir
