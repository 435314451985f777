"""Measured memory of this process."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import resource
import sys


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (the high-water mark the OS keeps)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB, macOS bytes


def release_freed_memory() -> None:
    """Hand memory that Python and torch have freed back to the OS between phases.

    glibc keeps freed blocks in its arenas; without a trim, the activations of training stay resident and the next
    phase's allocations land on top of them, raising the peak for nothing.
    """
    gc.collect()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # not glibc (e.g. musl): nothing to trim
            ctypes.CDLL("libc.so.6").malloc_trim(0)
