"""How the command line speaks: two consoles with markup off, so paths, notes, model names and messages print
verbatim whatever brackets they hold ("runs/[a]", "[bold]", "--extra [bertscore]"); colour comes only from an
explicit style. Errors, warnings and progress go to stderr, results to stdout."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.text import Text

out = Console(soft_wrap=True, markup=False, highlight=False)
# Wide tables stay whole when piped or logged (rich would squeeze them to 80 columns).
wide = Console(soft_wrap=True, markup=False, highlight=False, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True, markup=False, highlight=False)


def info(line: str) -> None:
    """A progress or information line (stderr, dim)."""
    err.print(line, style="dim")


def warn(line: str) -> None:
    err.print(Text.assemble(("warning: ", "yellow"), line))


def error(line: str) -> None:
    """The one line a failed command ends with."""
    err.print(Text.assemble(("error: ", "red"), line))


def styled(text: str, style: str) -> Text:
    return Text(text, style=style)
