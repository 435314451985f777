"""Which layers of a loaded model an adapter can target, and how many parameters it has: read from the model itself,
never from a list of names, so a target that matches nothing is an error that lists the names that do exist.

The course's phi-2 config named `Wqkv`, a module the loaded model did not have, and PEFT quietly trained only the MLP.
Training (train/adapters.py) and the memory plan (memory/estimate.py, on a meta-device model) both resolve targets here.
"""

from __future__ import annotations

import torch
from torch import nn

from clintune.errors import ClintuneError, listed


def linear_layer_names(model: nn.Module) -> list[str]:
    """Leaf names of the Linear layers (bitsandbytes' included), except the vocabulary head."""
    head = model.get_output_embeddings()
    names = set()
    for full_name, module in model.named_modules():
        if module is head:
            continue
        if isinstance(module, nn.Linear) or type(module).__name__ in ("Linear4bit", "Linear8bitLt"):
            names.add(full_name.rsplit(".", 1)[-1])
    return sorted(names)


def resolve_targets(model: nn.Module, targets: str | list[str]) -> list[str]:
    available = linear_layer_names(model)
    if targets == "all-linear":
        return available
    requested = [t.strip() for t in (targets.split(",") if isinstance(targets, str) else targets) if t.strip()]
    missing = [t for t in requested if t not in available]
    if missing or not requested:
        raise ClintuneError(
            f"LoRA target(s) {listed(missing) or '(none)'} match no linear layer of this model",
            fix=f"choose from {listed(available)} or all-linear",
        )
    return requested


def top_layer_indices(model: nn.Module, top_layers: int | None) -> list[int] | None:
    if top_layers is None:
        return None
    n_layers = model.config.get_text_config().num_hidden_layers
    if top_layers > n_layers:
        raise ClintuneError(f"lora.top_layers={top_layers} but the model has {n_layers} layers",
                            fix=f"use a value from 1 to {n_layers}, or null for every layer")
    return list(range(n_layers - top_layers, n_layers))


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """(trainable, total). A 4-bit packed weight stores two parameters per byte, so it counts double."""
    trainable = total = 0
    for param in model.parameters():
        n = param.numel()
        if param.dtype == torch.uint8 and type(param).__name__ == "Params4bit":
            n *= 2
        total += n
        if param.requires_grad:
            trainable += n
    return trainable, total
