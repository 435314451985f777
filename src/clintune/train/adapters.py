"""LoRA and DoRA adapters through PEFT, on the targets resolved against the actual model (models/targets.py)."""

from __future__ import annotations

from torch import nn

from clintune.config import LoraSection
from clintune.models.targets import resolve_targets, top_layer_indices


def add_lora(model: nn.Module, section: LoraSection, dora: bool = False):
    from peft import LoraConfig, get_peft_model  # here: planning memory needs target names, not PEFT's import time

    config = LoraConfig(
        use_dora=dora,
        r=section.r,
        lora_alpha=section.alpha,
        lora_dropout=section.dropout,
        target_modules=resolve_targets(model, section.targets),
        layers_to_transform=top_layer_indices(model, section.top_layers),
        bias="none",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)
