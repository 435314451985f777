"""`clintune doctor`: what this machine offers clintune, as (label, value) pairs."""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version

from clintune.devices import bf16_available, detect_device
from clintune.models.registry import DEFAULT_MODEL, cached_path, clintune_home
from clintune.privacy import hub_offline


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _bitsandbytes_backend() -> str:
    try:
        import bitsandbytes  # noqa: F401 - importing is the check
        import torch
    except Exception as exc:  # a broken native library raises many kinds of errors
        return f"unavailable ({type(exc).__name__})"
    return "cuda" if torch.cuda.is_available() else "cpu"


def report() -> list[tuple[str, str]]:
    import torch

    device = detect_device()
    cached = cached_path(DEFAULT_MODEL)
    return [
        ("python", platform.python_version()),
        ("torch", torch.__version__),
        ("device", device + (f" ({torch.cuda.get_device_name(0)})" if device == "cuda" else "")),
        ("bf16", "yes" if bf16_available(device) else "no"),
        ("bitsandbytes", f"{_version('bitsandbytes')}, backend {_bitsandbytes_backend()}"),
        *[(pkg, _version(pkg)) for pkg in ("transformers", "peft", "trl", "accelerate", "datasets")],
        ("cache", str(clintune_home())),
        ("offline", f"{'yes' if hub_offline() else 'no'} (HF_HUB_OFFLINE={os.environ.get('HF_HUB_OFFLINE', 'unset')})"),
        ("default model", f"{DEFAULT_MODEL}: " + (f"cached at {cached}" if cached else "not cached; run "
                                                  f"`clintune models fetch {DEFAULT_MODEL}`")),
    ]
