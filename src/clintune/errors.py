"""The one user-facing error type.

Anything the user can fix (a bad path, an unknown model, a bad config key) is raised as `ClintuneError`.
The CLI prints its message as a single line and exits with code 2; it never shows a traceback for it.
"""

from __future__ import annotations

import errno

USER_ERROR_EXIT_CODE = 2
INTERNAL_ERROR_EXIT_CODE = 1


class ClintuneError(Exception):
    """A problem with the user's input: what went wrong, where, and how to fix it, in one line."""

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None):
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        parts = [self.what]
        if self.where:
            parts.append(f"({self.where})")
        line = " ".join(parts)
        if self.fix:
            line += f"; {self.fix}"
        return " ".join(line.split())


# What the user can do about an operating-system error on a file they named: (what, fix) by errno.
_OS_PROBLEMS = {
    errno.ENOSPC: ("no space left on the device", "free some space, or write the output to another disk"),
    errno.EDQUOT: ("disk quota exceeded", "free some space within your quota, or write elsewhere"),
    errno.EFBIG: ("the file grew past the size this process may write", "raise the limit (ulimit -f) or free "
                  "space, or write elsewhere"),
    errno.EACCES: ("permission denied", "choose a path you may use, or change its permissions"),
    errno.EPERM: ("operation not permitted", "choose a path you may use, or change its permissions"),
    errno.EROFS: ("read-only file system", "write the output to a writable folder"),
    errno.ENOTDIR: ("a part of the path is a file, not a folder", "choose another path"),
    errno.EISDIR: ("this is a folder, where a file was expected", "give a file path"),
    errno.ENAMETOOLONG: ("the path is too long", "use a shorter path"),
    errno.ENOENT: ("no such file or folder", "check the path"),
    errno.EXDEV: ("cannot move a file across file systems", "keep the output on the same disk as its folder"),
}


def os_error(exc: OSError) -> ClintuneError | None:
    """The one-line ClintuneError for an OS error the user can fix (a full disk, a read-only or forbidden path),
    naming the file; None for anything else."""
    if exc.errno not in _OS_PROBLEMS:
        return None
    what, fix = _OS_PROBLEMS[exc.errno]
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    return ClintuneError(what, where=" -> ".join(paths) or None, fix=fix)


# Libraries that write files wrap the OS error in their own exception type; their text still says what happened.
_WRITE_FAILURE_TEXT = (("No space left on device", errno.ENOSPC), ("code: 28,", errno.ENOSPC),
                       ("File too large", errno.EFBIG), ("code: 27,", errno.EFBIG),
                       ("Disk quota exceeded", errno.EDQUOT), ("Read-only file system", errno.EROFS),
                       ("Permission denied", errno.EACCES))


def write_failure(exc: BaseException, where: str) -> ClintuneError | None:
    """A failed write as the user's one line: an OSError, or torch's and safetensors' wrappers of one (which name
    no file, so `where` says which folder was being written); None when `exc` is not a failed write."""
    if isinstance(exc, OSError):
        found = os_error(exc)
        return ClintuneError(found.what, where=found.where or where, fix=found.fix) if found else None
    text = str(exc)
    for needle, code in _WRITE_FAILURE_TEXT:
        if needle in text:
            what, fix = _OS_PROBLEMS[code]
            return ClintuneError(what, where=where, fix=fix)
    # torch's serializer keeps the OS's reason to itself: a failed write, or a short one it notices at the end.
    if "file write failed" in text or ("inline_container" in text and "unexpected pos" in text):
        return ClintuneError("a file could not be written", where=where,
                             fix="check the free space and permissions there")
    return None


def listed(items, limit: int = 12) -> str:
    """Items for a one-line message: the first `limit`, then how many more ("a, b, c and 214 more"), so a file with
    thousands of columns still gets a line a person can read."""
    items = [str(item) for item in items]
    if len(items) <= limit:
        return ", ".join(items)
    return f"{', '.join(items[:limit])} and {len(items) - limit:,} more"
