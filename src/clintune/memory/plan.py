"""The memory plan printed before step 1, from the instantiated model (so quantised weights count as stored).

Weights, gradients and optimizer states are exact for the model in hand; activations are an upper-bound rule of
thumb per decoder layer (about 34 values per hidden unit per token without checkpointing, 2 with it, after
Korthikanti et al. 2022) plus the fp32 logits of every position. The memory-planner issue replaces the activation
rule with a per-component estimate checked against measurement.
"""

from __future__ import annotations

from torch import nn

from clintune.config import RunConfig
from clintune.memory.estimate import OPTIMIZER_BYTES


def training_memory_plan(model: nn.Module, config: RunConfig, precision: str) -> dict[str, int]:
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    weights += sum(b.numel() * b.element_size() for b in model.buffers())
    trainable = [p for p in model.parameters() if p.requires_grad]
    gradients = sum(p.numel() * p.element_size() for p in trainable)
    optimizer = sum(p.numel() for p in trainable) * OPTIMIZER_BYTES[config.train.optimizer]
    text = model.config.get_text_config()
    tokens = config.train.batch_size * config.train.max_length
    value_bytes = 4 if precision == "fp32" else 2
    per_layer = (2 if config.train.gradient_checkpointing else 34) * text.hidden_size * tokens * value_bytes
    logits = tokens * text.vocab_size * 4 * 2  # fp32 logits and their gradient
    activations = per_layer * text.num_hidden_layers + logits
    plan = {"weights": weights, "gradients": gradients, "optimizer": optimizer, "activations": activations}
    plan["total"] = sum(plan.values())
    return plan


def describe_plan(plan: dict[str, int]) -> str:
    parts = ", ".join(f"{k} {v / 2**30:.2f}" for k, v in plan.items() if k != "total")
    return f"memory plan (GiB, activations an upper bound): {parts}; total {plan['total'] / 2**30:.2f}"
