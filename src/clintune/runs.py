"""The run directory: the readable record of one run, and the contract between clintune's steps.

Files are written atomically (to a temporary name, then renamed), so a crash never leaves a half-written file; the
run's state in `run.json` says whether it is running, finished or failed, and why.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from clintune.errors import ClintuneError


def timestamped(name: str) -> Path:
    """runs/<name>-<timestamp> under the current directory: where a command writes when no --out is given."""
    return Path("runs") / f"{name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def check_new_folder(out: Path) -> None:
    """`out` can become a new result folder: it does not exist, or is an empty folder."""
    if out.exists() and not out.is_dir():
        raise ClintuneError(f"--out {out} is a file, not a folder", fix="give a new or empty folder path")
    if out.is_dir() and any(out.iterdir()):
        raise ClintuneError(f"--out {out} is not empty", fix="give a new or empty folder, so no run is overwritten")


def new_run_dir(name: str, out: Path | None) -> Path:
    """`out` if given, else runs/<name>-<timestamp>/ under the current directory; refuses files and non-empty dirs."""
    out = Path(out) if out is not None else timestamped(name)
    check_new_folder(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ClintuneError(f"cannot create run folder {out}: {exc.strerror}", fix="choose a writable path") from None
    return out


@contextmanager
def atomic_file(path: Path) -> Iterator[str]:
    """A temporary path beside `path`, renamed onto it when the block succeeds and removed when it fails. The file is
    created with the usual mode (0666 less the umask, as `open` would), and an OS error (a full disk, a read-only or
    forbidden folder) names `path`, not the temporary name."""
    try:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError:  # a file stands where a folder of the path should be
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR)) from None
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
        os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    except OSError as exc:
        raise _naming(exc, path) from None
    try:
        yield str(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _naming(exc, path) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _new_cache(work: Path, out: Path, keep: str) -> bool:
    """Whether the working folder holds cached work that `out` (an earlier result) does not."""
    for cache in work.glob(keep):
        earlier = out / cache.relative_to(work)
        if not earlier.is_file() or earlier.stat().st_size != cache.stat().st_size:
            return True
    return False


def _naming(exc: OSError, path: Path) -> OSError:
    """The same OS error, about the path the user named."""
    return type(exc)(exc.errno, exc.strerror or os.strerror(exc.errno or 0), str(path))


@contextmanager
def staged_folder(out: Path, replaces: tuple[str, ...] = (), keep: str | None = None) -> Iterator[Path]:
    """Write a folder's results into `.NAME.partial` beside `out` and put that in place of `out` when the block
    succeeds, so `out` only ever holds a complete result, never a half-written or empty one.

    `out` must be new or empty, or hold an earlier result of the same command (one of the files in `replaces`),
    which the new one replaces. Files matching the glob `keep` (resumable caches) are carried over from that earlier
    result, and a failed or interrupted block leaves the working folder in place only when it holds some, so the
    rerun picks them up; otherwise nothing is left behind."""
    out = Path(out)
    if not any((out / name).exists() for name in replaces):
        check_new_folder(out)
    work = out.with_name(f".{out.name}.partial")
    try:
        work.mkdir(parents=True, exist_ok=True)  # it may hold an interrupted run's caches: they are reused
        for cache in (out.glob(keep) if keep and out.is_dir() else ()):
            target = work / cache.relative_to(out)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(cache, target)
    except OSError as exc:
        raise _naming(exc, out) from None
    try:
        yield work
        previous = out.with_name(f".{out.name}.previous")
        shutil.rmtree(previous, ignore_errors=True)
        if out.exists():
            os.replace(out, previous)
        os.replace(work, out)
        shutil.rmtree(previous, ignore_errors=True)
    except BaseException as exc:
        if not (keep and _new_cache(work, out, keep)):
            shutil.rmtree(work, ignore_errors=True)
        if isinstance(exc, OSError):
            raise _naming(exc, out) from None
        raise


def write_text(path: Path, text: str) -> None:
    with atomic_file(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


def write_figure(path: Path, figure, dpi: int = 110) -> None:
    """A matplotlib figure as PNG, written like every other run file: to a temporary name, then renamed."""
    with atomic_file(path) as tmp:
        figure.savefig(tmp, dpi=dpi, format="png")


def write_json(path: Path, data) -> None:
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def write_jsonl(path: Path, rows: list[dict]) -> None:
    write_text(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def read_status(run_dir: Path) -> dict:
    path = run_dir / "run.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def set_status(run_dir: Path, status: str, **details) -> None:
    path = run_dir / "run.json"
    record = read_status(run_dir)
    record.update({"status": status, "updated": datetime.now().isoformat(timespec="seconds"), **details})
    write_json(path, record)


class KeyedCache:
    """Finished work in a run folder, {"key", "value"} JSON lines appended as it completes; thread-safe. A torn last
    line (a run killed mid-write) is skipped, so that item is simply done again. `path` None keeps it in memory."""

    def __init__(self, path: Path | None):
        import threading

        self.path, self.values, self.lock = path, {}, threading.Lock()
        if path is not None and path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                self.values[entry["key"]] = entry["value"]

    def add(self, entries: dict[str, str]) -> None:
        with self.lock:
            self.values.update(entries)
            if self.path is None:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write("".join(json.dumps({"key": k, "value": v}, ensure_ascii=False) + "\n"
                                     for k, v in entries.items()))
