"""Sizes, the GPUs `clintune memory --gpu` knows, and the plan's components: no heavy imports, so options are
checked before torch loads."""

from __future__ import annotations

GIB = 2**30
COMPONENTS = ("weights", "quant_constants", "adapters", "gradients", "optimizer", "activations", "overhead")
# Memory the driver reports (MiB), and whether the GPU computes in bf16 (the T4 does not: fp16 there).
GPUS = {"t4": (15_360, False), "l4": (23_034, True), "a10g": (23_028, True), "a100-40": (40_960, True),
        "a100-80": (81_920, True), "h100": (81_559, True), "rtx4090": (24_564, True), "rtx3090": (24_576, True)}


def parse_size(text: str) -> int:
    """'16GiB', '16GB', '15360MiB' or a number of bytes."""
    units = {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "kb": 10**3, "mb": 10**6, "gb": 10**9,
             "tb": 10**12, "b": 1, "": 1}
    value = text.strip().lower().replace(" ", "")
    number = value.rstrip("kmgtib")
    unit = value[len(number):]
    if unit not in units or not number:
        raise ValueError(f"'{text}' is not a memory size")
    try:
        size = int(float(number) * units[unit])
    except (ValueError, OverflowError):  # "1.2.3GiB", "infGiB"
        raise ValueError(f"'{text}' is not a memory size") from None
    if size <= 0:
        raise ValueError(f"'{text}' is not a memory size above zero")
    return size
