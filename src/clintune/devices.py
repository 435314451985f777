"""Which device to train on, and whether it does bf16 natively."""

from __future__ import annotations

import platform
from pathlib import Path

import torch


def detect_device() -> str:
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def cpu_has_native_bf16() -> bool:
    """AVX512-BF16 or AMX: there, bf16 matmuls run ~2.5x faster than fp32; elsewhere bf16 autocast is emulated."""
    if platform.system() != "Linux":
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def bf16_available(device: str) -> bool:
    if device == "cuda":
        return torch.cuda.is_bf16_supported()
    if device == "cpu":
        return cpu_has_native_bf16()
    return False


def resolve_precision(setting: str, device: str) -> str:
    """The config's train.precision made concrete: 'bf16', 'fp16' or 'fp32' (mixed precision over fp32 weights)."""
    if setting != "auto":
        return setting
    if bf16_available(device):
        return "bf16"
    # fp16 autocast with loss scaling is what GPUs without bf16 (T4, V100) have; CPUs and MPS stay in fp32.
    return "fp16" if device == "cuda" else "fp32"
