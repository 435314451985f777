"""What a training step keeps in memory, from a model config alone: the model is built on the meta device (shapes,
no weights), so nothing is downloaded and any causal LM transformers can build from a config works.

Counted the way the libraries store it (this module: parameters, weights, quantisation constants, adapters,
gradients, optimizer states; activations, overhead and the KV cache come with the `clintune memory` command):
- weights: full fine-tuning keeps fp32 weights (they are the master weights; autocast computes in bf16/fp16); LoRA and
  DoRA keep the frozen base in the load dtype; QLoRA packs the Linear layers except the vocabulary head into 4 bits,
  and PEFT's `prepare_model_for_kbit_training` upcasts everything else (embeddings, norms, biases, head) to fp32;
- quantisation constants: bitsandbytes 4-bit blocks of 64 weights, one fp32 absmax each; with double quantisation the
  absmax is 8-bit, plus per layer one fp32 absmax per 256 blocks, an fp32 offset and a 1 KiB code book;
- adapters: LoRA A and B (r x in + out x r) on the resolved targets of the adapted layers, DoRA adds one magnitude per
  output feature; they are fp32, as PEFT keeps them;
- gradients: one fp32 value per trainable parameter (a frozen base has none);
- optimizer: AdamW keeps two fp32 moments (8 bytes per trainable parameter), 8-bit AdamW two 8-bit moments, SGD none.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from clintune.config import RunConfig
from clintune.errors import ClintuneError
from clintune.train.adapters import resolve_targets, top_layer_indices

BLOCK = 64  # bitsandbytes' 4-bit block size
NESTED_BLOCK = 256  # blocks per second-level absmax under double quantisation
DTYPE_BYTES = {"fp32": 4, "bf16": 2, "fp16": 2}
OPTIMIZER_BYTES = {"adamw_torch": 8, "adamw_torch_fused": 8, "paged_adamw_32bit": 8, "paged_adamw_8bit": 2,
                   "adamw_8bit": 2, "sgd": 0}
_LAYER_INDEX = re.compile(r"\.(\d+)\.")


def model_config_from(name: str, trust_remote_code: bool = False):
    """A transformers config from a config.json path, a model folder, a cached short name or a hub id."""
    from transformers import AutoConfig

    from clintune.models.registry import resolve_model
    from clintune.privacy import hub_offline

    path = Path(name)
    try:
        if path.is_file():
            values = json.loads(path.read_text(encoding="utf-8"))
            return AutoConfig.for_model(values.pop("model_type"), **values)
        return AutoConfig.from_pretrained(resolve_model(name), trust_remote_code=trust_remote_code,
                                          local_files_only=hub_offline())
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ClintuneError(f"cannot read a model config from '{name}': {first}",
                            fix="give a config.json, a model folder, a cached short name or a hub id") from None


def meta_model(model_config) -> nn.Module:
    """The model's modules and parameter shapes without any memory behind them."""
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(model_config)


@dataclass
class ParameterCounts:
    total: int  # the base model's parameters (tied embeddings once)
    quantisable: int  # weights of the Linear layers except the head: what bitsandbytes packs into 4 bits
    quantisable_layers: list[int]  # the same, per layer (the constants are per layer)
    adapters: int  # LoRA A/B (and DoRA magnitudes) for the resolved targets
    trainable: int


def _adapted_linears(model: nn.Module, config: RunConfig) -> list[nn.Linear]:
    targets = set(resolve_targets(model, config.lora.targets))
    layers = top_layer_indices(model, config.lora.top_layers)
    head = model.get_output_embeddings()
    adapted = []
    for name, module in model.named_modules():
        if not isinstance(module, nn.Linear) or module is head or name.rsplit(".", 1)[-1] not in targets:
            continue
        index = _LAYER_INDEX.search(name)
        if layers is None or (index and int(index.group(1)) in layers):
            adapted.append(module)
    return adapted


def count_parameters(model: nn.Module, config: RunConfig) -> ParameterCounts:
    total = sum(p.numel() for p in model.parameters())
    head = model.get_output_embeddings()
    layers = [m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear) and m is not head]
    method = config.train.method
    adapters = 0
    if method != "full":
        r = config.lora.r
        for linear in _adapted_linears(model, config):
            adapters += r * (linear.in_features + linear.out_features)
            if method == "dora":
                adapters += linear.out_features
    trainable = total if method == "full" else adapters
    return ParameterCounts(total, sum(layers), layers, adapters, trainable)


def state_bytes(counts: ParameterCounts, config: RunConfig, load_dtype: str = "fp32") -> dict[str, int]:
    """Bytes of weights, quantisation constants, adapters, gradients and optimizer state."""
    method = config.train.method
    if method == "full":
        weights = counts.total * 4
    elif method == "qlora":
        weights = counts.quantisable // 2 + (counts.total - counts.quantisable) * 4
    else:
        weights = counts.total * DTYPE_BYTES[load_dtype]
    constants = 0
    if method == "qlora":
        for size in counts.quantisable_layers:
            blocks = -(-size // BLOCK)
            # Double quantisation: an 8-bit absmax per block, then per layer one fp32 absmax per 256 blocks, an fp32
            # offset and its own 256-entry fp32 code book.
            nested = -(-blocks // NESTED_BLOCK) * 4 + 4 + 256 * 4
            constants += blocks * 4 if not config.quant.double_quant else blocks + nested
    return {
        "weights": weights,
        "quant_constants": constants,
        "adapters": counts.adapters * 4,
        "gradients": counts.trainable * 4,
        "optimizer": counts.trainable * OPTIMIZER_BYTES[config.train.optimizer],
    }
