"""`clintune studio`: the web page over clintune's API (a thin command: parse, call)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clintune.cli.console import info


def studio(
    host: Annotated[str, typer.Option("--host", help="Address to bind; another than loopback needs the "
                                      "CLINTUNE_STUDIO_TOKEN environment variable.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 7860,
    runs: Annotated[Path, typer.Option("--runs", help="Folder for the studio's runs, uploads and generated data.")]
    = Path("runs"),
):
    """Open clintune studio: data, memory plan, training, evaluation and chat in a web page (English, 한국어)."""
    from clintune.studio import run_studio

    run_studio(host, port, runs, say=info)
