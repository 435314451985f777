"""`clintune export`: a thin command over clintune.api.export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clintune import api
from clintune.cli.console import info, out


def export(
    run: Annotated[Path, typer.Argument(help="Run directory of a finished training run.")],
    format: Annotated[str, typer.Option("--format", help="gguf (llama.cpp, Ollama).")] = "gguf",
    type: Annotated[str, typer.Option("--type", help="f16 (default), bf16 or q8_0.")] = "f16",
    out_dir: Annotated[Path | None, typer.Option("--out", help="New or empty folder (default RUN/gguf-TYPE).")]
    = None,
):
    """Export the trained model as a GGUF with its chat template and EOS, plus an Ollama Modelfile; the file is
    read back and its greedy generations compared with the merged model before this reports success."""
    exported = api.export(run, format, type, out_dir, say=info)
    for check in exported.checks:
        out.print(f"  ok  {check.name}: {check.detail}")
    figures = api.export_summary(exported)
    out.print(f"GGUF written to {exported.gguf} ({figures['size_mib']} MiB, {figures['tensors']} tensors, "
              f"{'/'.join(figures['types'])})")
    out.print(f"Ollama: cd {exported.folder} && ollama create {run.name} -f Modelfile && ollama run {run.name}")
