"""What the studio's actions share: the request base that refuses unknown fields, the command line each action shows,
and links to files in the runs folder."""

from __future__ import annotations

import hashlib
import shlex
from pathlib import Path

from pydantic import BaseModel, ConfigDict


class Request_(BaseModel):
    """Every request body: unknown fields are an error, never silently ignored."""

    model_config = ConfigDict(extra="forbid")


def command(args: list) -> str:
    """The shell line a user can paste: every argument quoted as the shell needs."""
    return shlex.join(str(a) for a in args)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def file_url(runs: Path, path: Path) -> str:
    """The page's link to a file in the runs folder (GET /api/files/...)."""
    return "/api/files/" + str(Path(path).resolve().relative_to(runs))
