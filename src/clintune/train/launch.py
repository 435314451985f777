"""`clintune train --nproc N`: the same command, relaunched under torchrun as N data-parallel processes.

The parent prepares what every rank needs once (the model in the cache, an empty run directory), then starts
`python -m torch.distributed.run --standalone --nproc_per_node N -m clintune train ... --out RUN_DIR`. Inside, the
HF trainer sets up DDP through accelerate (gloo on CPU, NCCL on GPUs), or FSDP / DeepSpeed ZeRO when the recipe asks.
torchrun rather than `accelerate launch`: on a CPU, `accelerate launch --cpu --num_processes 2` silently starts one.

A rank's error is one line in run.json; the parent re-raises it as that one line, never as torchrun's traceback.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from transformers import TrainerCallback

from clintune.config import RunConfig
from clintune.devices import in_distributed_launch
from clintune.errors import ClintuneError
from clintune.memory.plan import MemoryCheck
from clintune.models.fetch import fetch_model
from clintune.models.registry import KNOWN_MODELS
from clintune.runs import read_status, set_status
from clintune.train.preference import MakePairs
from clintune.train.run import Say, open_run, run_training

# Lines after which torchrun only repeats a child's failure as a Python traceback.
_TRACEBACK_STARTS = ("Traceback (most recent call last)", "torch.distributed.elastic", "[rank", "E1", "W1")


def train_command(config: RunConfig, out: Path | None = None, resume: bool = False, say: Say = print,
                  memory: MemoryCheck | None = None, relaunch_argv: list[str] | None = None,
                  callbacks: Sequence[TrainerCallback] = (), make_pairs: MakePairs | None = None) -> Path:
    """`clintune train`: one process here, or N under torchrun when distributed.nproc (or --nproc) says so.

    Under torchrun each rank re-runs the command line that started this process (`relaunch_argv`, e.g.
    ["train", "recipe.yaml", "--nproc", "2"]) with the prepared run directory appended as --out, so every flag reaches
    the ranks exactly as the user gave it."""
    if config.distributed.nproc == 1 or in_distributed_launch():
        return run_training(config, out, resume, say, memory, callbacks, make_pairs)
    if relaunch_argv is None:
        raise ClintuneError(f"distributed.nproc={config.distributed.nproc} needs a launcher",
                            fix="from Python, start the script with torchrun --nproc_per_node N; or run "
                            "`clintune train RECIPE --nproc N`")
    if config.model.name in KNOWN_MODELS:
        fetch_model(config.model.name, say=say)  # once, before N processes would race to fetch it
    run_dir = open_run(config, out, resume)
    say(f"launching {config.distributed.nproc} processes with torchrun; run directory {run_dir}")
    relaunch(config.distributed.nproc, [*_without_nproc(relaunch_argv), f"distributed.nproc={config.distributed.nproc}",
                                        "--out", str(run_dir)], run_dir)
    return run_dir


def _without_nproc(argv: list[str]) -> list[str]:
    """The argv minus `--nproc N`, said again as the override it stands for: torchrun's own parser would take
    `--nproc` for an abbreviation of its --nproc-per-node and refuse it as ambiguous."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            kept.append(arg)
    return kept


def relaunch(nproc: int, argv: list[str], run_dir: Path) -> None:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               "-m", "clintune", *argv]
    log = run_dir / "launcher.log"
    with log.open("w", encoding="utf-8") as kept:
        process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, bufsize=1)
        echoing, said = True, ""
        for line in process.stderr:
            kept.write(line)
            if line.startswith(_TRACEBACK_STARTS):
                echoing = False
            if echoing:
                sys.stderr.write(line)
            if not said and line.startswith("error: "):
                said = line.removeprefix("error: ").strip()
        code = process.wait()
    if code != 0:
        status = read_status(run_dir)
        error = status.get("error", "") or said
        if status.get("status") != "failed":
            # The first rank to fail ends the others (torchrun stops them), maybe before rank 0 recorded why, or
            # before it wrote run.json at all.
            set_status(run_dir, "failed", error=error or f"a training process failed (exit code {code})")
        if " " in error:  # a rank's own one-line ClintuneError: what, where, how to fix
            raise ClintuneError(error)
        raise ClintuneError(f"a training process failed ({error or f'exit code {code}'})", where=str(log),
                            fix="see the launcher log for each rank's output")
