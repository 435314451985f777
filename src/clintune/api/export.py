"""Export a trained run for other runtimes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from clintune.errors import ClintuneError
from clintune.export.gguf import TYPES, GgufExport, export_gguf, gguf_summary

FORMATS = ("gguf",)


def export(run: Path, format: str = "gguf", type: str = "f16", out: Path | None = None,
           say: Callable[[str], None] = print) -> GgufExport:
    """The run's merged model as a GGUF (`type`: f16, bf16 or q8_0) with its chat template and EOS, an Ollama
    Modelfile beside it, and checks against the merged model (metadata, tensors, prompt ids, weights, greedy
    generations); a failed check raises ClintuneError and leaves nothing behind. `out` defaults to RUN/gguf-TYPE."""
    if format not in FORMATS:
        raise ClintuneError(f"unknown --format '{format}'", fix=f"use one of: {', '.join(FORMATS)}")
    if type not in TYPES:
        raise ClintuneError(f"unknown --type '{type}'", fix=f"use one of: {', '.join(TYPES)}")
    run = Path(run)
    if not (run / "config.yaml").is_file():
        raise ClintuneError("not a clintune run directory (no config.yaml)", where=str(run),
                            fix="pass the folder a training run wrote")
    return export_gguf(run, out, type, say)


def summary(exported: GgufExport) -> dict:
    """Size, tensor count and tensor types of an exported GGUF."""
    return gguf_summary(exported.gguf)
