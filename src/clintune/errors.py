"""The one user-facing error type.

Anything the user can fix (a bad path, an unknown model, a bad config key) is raised as `ClintuneError`.
The CLI prints its message as a single line and exits with code 2; it never shows a traceback for it.
"""

from __future__ import annotations

USER_ERROR_EXIT_CODE = 2


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
