"""A small disk for tests: a real tmpfs of a given size where this process may mount one (root), else a per-process
file-size limit (RLIMIT_FSIZE, with SIGXFSZ ignored so a write fails with EFBIG instead of killing the process).

    with SmallDisk(tmp_path / "disk", size=3 * 2**20, file_limit=2**20) as disk:
        subprocess.run(command, preexec_fn=disk.limit, ...)   # the file limit applies only without a tmpfs
        disk.grow(64 * 2**20)                                  # room again, for a rerun
"""

from __future__ import annotations

import resource
import shutil
import signal
import subprocess
from pathlib import Path


class SmallDisk:
    def __init__(self, folder: Path, size: int, file_limit: int):
        self.folder, self.size, self.file_limit, self.mounted = folder, size, file_limit, False

    def __enter__(self) -> SmallDisk:
        self.folder.mkdir(parents=True, exist_ok=True)
        if shutil.which("mount"):
            done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.size}", "tmpfs", str(self.folder)],
                                  capture_output=True)
            self.mounted = done.returncode == 0
        return self

    def limit(self) -> None:
        """preexec_fn for the process that writes: with no tmpfs, no file it writes may exceed the size."""
        if not self.mounted:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (self.file_limit, self.file_limit))

    def grow(self, size: int) -> None:
        self.size = self.file_limit = size
        if self.mounted:
            subprocess.run(["mount", "-o", f"remount,size={size}", str(self.folder)], check=True)

    def __exit__(self, *exc) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.folder)], check=False)
