"""Measured memory: the process (peak RSS, free memory) and tensors, each storage counted once (the model's
weights by kind, gradients, optimizer state, and what autograd saves for backward)."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import resource
import sys
import weakref

import torch
from torch import nn


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (the high-water mark the OS keeps)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB, macOS bytes


def release_freed_memory() -> None:
    """Hand memory that Python and torch have freed back to the OS between phases.

    glibc keeps freed blocks in its arenas; without a trim, the activations of training stay resident and the next
    phase's allocations land on top of them, raising the peak for nothing.
    """
    gc.collect()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # not glibc (e.g. musl): nothing to trim
            ctypes.CDLL("libc.so.6").malloc_trim(0)


def _storage_key(tensor: torch.Tensor) -> tuple[int, int]:
    storage = tensor.untyped_storage()
    return storage.data_ptr(), storage.nbytes()


def _unique_bytes(tensors, exclude: set | None = None) -> int:
    seen = {}
    for tensor in tensors:
        if isinstance(tensor, torch.Tensor) and tensor.device.type != "meta":
            key = _storage_key(tensor)
            if not exclude or key[0] not in exclude:
                seen[key[0]] = key[1]
    return sum(seen.values())


def _quant_state_tensors(state) -> list[torch.Tensor]:
    tensors = [state.absmax, getattr(state, "code", None)]
    if getattr(state, "nested", False):
        tensors += [state.offset, state.state2.absmax, getattr(state.state2, "code", None)]
    return [t for t in tensors if isinstance(t, torch.Tensor)]


def model_state_bytes(model: nn.Module) -> dict[str, int]:
    """Exact bytes of the model's tensors, by what they are: base weights (4-bit ones at their packed size),
    quantisation constants, and trainable adapters (everything trainable when nothing is frozen)."""
    params = list(model.named_parameters())
    frozen_exists = any(not p.requires_grad for _, p in params)
    adapters = [p for _, p in params if p.requires_grad and frozen_exists]
    base = [p for _, p in params if not (p.requires_grad and frozen_exists)]
    constants = [t for _, p in params if hasattr(p, "quant_state") and p.quant_state is not None
                 for t in _quant_state_tensors(p.quant_state)]
    return {"weights": _unique_bytes(base), "quant_constants": _unique_bytes(constants),
            "adapters": _unique_bytes(adapters)}


class SavedTensorMeter:
    """Counts the bytes autograd saves for backward inside `with meter:` and still holds at its end.

    Each saved tensor is seen once per storage (views and tensors saved by several ops share it); parameters and
    buffers are not activations and are left out. Under gradient checkpointing the layer inputs the checkpoint keeps
    are seen, the tensors inside a checkpointed layer are not (they are never kept).
    """

    def __init__(self, model: nn.Module):
        self._excluded = {t.untyped_storage().data_ptr() for t in (*model.parameters(), *model.buffers())}
        self._refs: list[weakref.ref] = []
        self._hooks = torch.autograd.graph.saved_tensors_hooks(self._pack, lambda tensor: tensor)
        self.peak = 0

    def _pack(self, tensor: torch.Tensor) -> torch.Tensor:
        self._refs.append(weakref.ref(tensor))
        return tensor

    def __enter__(self):
        self._refs = []
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._hooks.__exit__(*exc)

    def held(self) -> int:
        """Bytes of saved tensors still alive now (call it after the forward pass, before backward)."""
        alive = [ref() for ref in self._refs]
        held = _unique_bytes([t for t in alive if t is not None], self._excluded)
        self.peak = max(self.peak, held)
        return held


def gradient_bytes(model: nn.Module) -> int:
    return _unique_bytes(p.grad for p in model.parameters() if p.grad is not None)


def optimizer_state_bytes(optimizer) -> int:
    optimizer = getattr(optimizer, "optimizer", optimizer)  # accelerate's wrapper
    # train.optimizer_in_backward: one optimizer per parameter (train/optimizer_in_backward.py)
    inner = list(getattr(optimizer, "per_parameter", {}).values()) or [optimizer]
    return _unique_bytes(t for opt in inner for state in opt.state.values() for t in state.values())


def free_memory(device: str) -> int | None:
    """Bytes the device can still give: free GPU memory on CUDA, available RAM on a CPU, None where unknown."""
    if device == "cuda":
        return torch.cuda.mem_get_info()[0]
    if device == "cpu" and sys.platform.startswith("linux"):
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    return None
