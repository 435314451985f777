"""The studio's background work: `clintune train` and `clintune eval` as child processes in a session of their own,
so a run goes on when the page is closed, or the studio itself stops; the page finds it again from its files.

    jobs = Jobs(Path("runs"))
    jobs.start("train", run_dir, ["train", "demo", "train.lr=1e-4", "--out", str(run_dir)])
    jobs.alive(run_dir, "train"); jobs.stop(run_dir, "train")   # stop = Ctrl-C: the run says "interrupted"

What a job is (its command, process id, log) is written to RUNS/.studio/jobs/<run>.<kind>.json; what it did is in
the run directory, as for any clintune run: run.json, metrics.jsonl, train.log, eval/.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from clintune.runs import read_status, write_json
from clintune.studio.common import StudioError

KINDS = ("train", "eval")


class Jobs:
    def __init__(self, runs: Path):
        self.folder = Path(runs) / ".studio" / "jobs"
        self.children: dict[int, subprocess.Popen] = {}  # started here: polled, so none is left a zombie

    def start(self, kind: str, run: Path, args: list[str], **details) -> dict:
        if self.alive(run, kind):
            raise StudioError("already_running", f"{run.name} already has a {kind} job running",
                              fix="stop it first, or wait", name=run.name)
        self.folder.mkdir(parents=True, exist_ok=True)
        log = self.folder / f"{run.name}.{kind}.log"
        with log.open("ab") as out:
            process = subprocess.Popen([sys.executable, "-m", "clintune", *args], stdin=subprocess.DEVNULL,
                                       stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                       env={**os.environ, "COLUMNS": "160"})
        self.children[process.pid] = process
        record = {"kind": kind, "run": str(run), "pid": process.pid, "command": shlex.join(["clintune", *args]),
                  "started": time.time(), "log": str(log), **details}
        write_json(self.folder / f"{run.name}.{kind}.json", record)
        return record

    def runs(self) -> set[Path]:
        """Every run a job was started for, its folder made yet or not."""
        if not self.folder.is_dir():
            return set()
        return {Path(json.loads(p.read_text())["run"]).resolve() for p in self.folder.glob("*.json")}

    def record(self, run: Path, kind: str) -> dict | None:
        path = self.folder / f"{Path(run).name}.{kind}.json"
        return json.loads(path.read_text()) if path.is_file() else None

    def alive(self, run: Path, kind: str) -> bool:
        record = self.record(run, kind)
        if record is None:
            return False
        child = self.children.get(record["pid"])
        if child is not None:
            return child.poll() is None
        try:  # started by an earlier studio: is that process id still a clintune process?
            return b"clintune" in Path(f"/proc/{record['pid']}/cmdline").read_bytes()
        except OSError:
            return False

    def stop(self, run: Path, kind: str) -> int:
        """Ctrl-C for the job's whole process group (returned): training marks the run interrupted and can be
        resumed."""
        if not self.alive(run, kind):
            raise StudioError("nothing_running", f"{Path(run).name} has no {kind} job running",
                              fix="refresh the list of runs", name=Path(run).name)
        pid = self.record(run, kind)["pid"]
        os.killpg(pid, signal.SIGINT)
        return pid

    def log_tail(self, run: Path, kind: str, lines: int = 12) -> list[str]:
        record = self.record(run, kind)
        if record is None or not Path(record["log"]).is_file():
            return []
        text = Path(record["log"]).read_bytes()[-20_000:].decode("utf-8", "replace")
        # Rich redraws its progress bar with carriage returns: keep what the last redraw shows.
        return [line.rsplit("\r", 1)[-1] for line in text.splitlines() if line.strip()][-lines:]


def run_progress(run: Path) -> dict:
    """Where a run is, from its own files: status, the loss curve, step of max_steps, tokens/s and the ETA."""
    status = read_status(run)
    losses, last = [], None
    metrics = run / "metrics.jsonl"
    if metrics.is_file():
        for line in metrics.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:  # a line being written right now
                continue
            if "loss" in record:
                losses.append([record["step"], record["loss"]])
                last = record
    progress = {"status": status.get("status", "starting"), "error": status.get("error"), "losses": losses,
                "step": None, "max_steps": None, "tokens_per_second": None, "eta_seconds": None,
                "evaluated": (run / "eval" / "metrics.json").is_file(), "report": (run / "report.html").is_file()}
    if last is not None:
        step = last["step"]
        max_steps = last.get("max_steps") or (step if progress["status"] == "finished" else None)  # older runs
        speed, runtime = last.get("train_tokens_per_second"), last.get("train_runtime")
        eta = runtime / step * (max_steps - step) if runtime and step and max_steps else None
        progress.update(step=step, max_steps=max_steps, tokens_per_second=speed,
                        eta_seconds=None if eta is None or math.isnan(eta) else round(eta))
    return progress
