"""What the studio's actions share: the request base that refuses unknown fields, the command line each action shows,
and links to files in the runs folder."""

from __future__ import annotations

import hashlib
import shlex
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from clintune.errors import ClintuneError


class StudioError(ClintuneError):
    """A problem the studio itself finds: the English line, plus a locale key and its values, so the page can say it
    in the user's language (locales: "error.<key>", with {name}-style placeholders)."""

    def __init__(self, key: str, what: str, *, fix: str | None = None, **values):
        super().__init__(what, fix=fix)
        self.key, self.values = key, {k: str(v) for k, v in values.items()}


def no_run(name: str, runs: Path) -> StudioError:
    return StudioError("no_run", f"no run named '{name}' in {runs}", fix="pick one from the list of runs", name=name)


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
