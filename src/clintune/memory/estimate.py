"""What a training step keeps in memory, from a model config alone: the model is built on the meta device (shapes,
no weights), so nothing is downloaded and any causal LM transformers can build from a config works.

Counted the way the libraries store it (activations: memory/activations.py; the whole plan: memory/plan.py), with the
weights in `train.weights_dtype` resolved as training resolves it (devices.resolve_weights_dtype):
- weights: full fine-tuning keeps fp32 master weights (autocast computes in bf16/fp16), or bf16 ones for pure-bf16
  training; LoRA and DoRA keep the frozen base in the compute dtype by default; QLoRA packs the Linear layers except
  the vocabulary head into 4 bits and keeps the rest (embeddings, norms, biases, head) in the compute dtype;
- quantisation constants: bitsandbytes 4-bit blocks of 64 weights, one fp32 absmax each, and each layer's copy of
  the 16-value code; with double quantisation the absmax is 8-bit, plus per layer one fp32 absmax per 256 blocks, an
  fp32 offset and a 256-entry fp32 code book;
- adapters: LoRA A and B (r x in + out x r) on the resolved targets of the adapted layers, DoRA adds one magnitude per
  output feature; fp32 master weights for every method (clintune undoes TRL's bf16 cast of a quantised model's);
- gradients: one value per trainable parameter, in its dtype (a frozen base has none); with the optimizer stepped
  inside backward only one tensor's gradient exists at a time, so the largest one counts;
- optimizer: torch AdamW keeps two moments in the parameter's dtype and a step counter per tensor; bitsandbytes'
  32-bit AdamW two fp32 moments; its 8-bit AdamW two uint8 moments with blockwise fp32 absmax (tensors under 4096
  values and, by the HF trainer's choice, embeddings stay 32-bit); SGD without momentum nothing. Paged optimizers
  allocate the same state in CUDA unified memory, which the driver may move to the host under pressure; the plan
  counts it on the GPU, where it lives until then.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from clintune.config import RunConfig
from clintune.errors import ClintuneError
from clintune.models.targets import resolve_targets, top_layer_indices

BLOCK = 64  # bitsandbytes' 4-bit block size
NESTED_BLOCK = 256  # blocks per second-level absmax under double quantisation
DTYPE_BYTES = {"fp32": 4, "bf16": 2, "fp16": 2}
BNB_MIN_8BIT_SIZE = 4096  # bitsandbytes' 8-bit optimizers keep smaller tensors in 32 bits
_LAYER_INDEX = re.compile(r"\.(\d+)\.")


def model_config_from(name: str, trust_remote_code: bool = False):
    """A transformers config from a config.json path, a model folder, a cached short name or a hub id."""
    from huggingface_hub.errors import StrictDataclassError
    from transformers import AutoConfig

    from clintune.models.registry import check_config_file, resolve_model
    from clintune.privacy import hub_offline

    path = Path(name)
    try:
        if path.is_file():
            values = check_config_file(path)
            return AutoConfig.for_model(values.pop("model_type"), **values)
        return AutoConfig.from_pretrained(resolve_model(name), trust_remote_code=trust_remote_code,
                                          local_files_only=hub_offline())
    except (OSError, ValueError, KeyError, StrictDataclassError) as exc:  # what transformers' own checks raise
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
    # (values, bytes per value, may use 8-bit optimizer state) of each trainable tensor
    trainable_tensors: list[tuple[int, int, bool]]


def adapted_linears(model: nn.Module, config: RunConfig) -> list[nn.Linear]:
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


def count_parameters(model: nn.Module, config: RunConfig, weights_bytes: int = 4) -> ParameterCounts:
    """`weights_bytes`: bytes per weight as held (full fine-tuning trains them in that dtype)."""
    total = sum(p.numel() for p in model.parameters())
    head = model.get_output_embeddings()
    layers = [m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear) and m is not head]
    method = config.train.method
    # The HF trainer keeps embedding matrices in 32-bit optimizer state even under an 8-bit optimizer.
    embeddings = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    tensors = ([(p.numel(), weights_bytes, id(p) not in embeddings) for p in model.parameters()]
               if method == "full" else [])
    if method != "full":
        r = config.lora.r
        for linear in adapted_linears(model, config):
            tensors += [(r * linear.in_features, 4, True), (linear.out_features * r, 4, True)]
            if method == "dora":
                tensors.append((linear.out_features, 4, True))
    adapters = 0 if method == "full" else sum(n for n, _, _ in tensors)
    trainable = total if method == "full" else adapters
    return ParameterCounts(total, sum(layers), layers, adapters, trainable, tensors)


def optimizer_bytes(tensors: list[tuple[int, int, bool]], optimizer: str, per_parameter: bool = False) -> int:
    """State bytes as the optimizer allocates them, tensor by tensor (see ParameterCounts.trainable_tensors).
    `per_parameter`: one optimizer per tensor (train.optimizer_in_backward)."""
    if optimizer == "sgd":
        return 0  # no momentum: nothing kept between steps
    if optimizer in ("adamw_8bit", "paged_adamw_8bit"):
        maps = 2 * 256 * 4  # the two 256-entry quantisation maps of each optimizer
        total = 0 if per_parameter else maps
        for n, _, eight_bit in tensors:
            # bitsandbytes keeps tensors under 4096 values in 32 bits; others get two uint8 moments and an fp32
            # absmax per block of 256 for each.
            if eight_bit and n >= BNB_MIN_8BIT_SIZE:
                total += 2 * n + 2 * 4 * -(-n // 256) + (maps if per_parameter else 0)
            else:
                total += 8 * n
        return total
    if optimizer == "paged_adamw_32bit":
        return sum(8 * n for n, _, _ in tensors)  # bitsandbytes: two fp32 moments whatever the parameter dtype
    return sum(2 * n * size + 4 for n, size, _ in tensors)  # torch: two moments in the parameter's dtype, a step


def state_bytes(counts: ParameterCounts, config: RunConfig, weights_bytes: int = 4) -> dict[str, int]:
    """Bytes of weights, quantisation constants, adapters, gradients and optimizer state."""
    method = config.train.method
    if method == "qlora":
        weights = counts.quantisable // 2 + (counts.total - counts.quantisable) * weights_bytes
    else:
        weights = counts.total * weights_bytes
    constants = 0
    if method == "qlora":
        for size in counts.quantisable_layers:
            blocks = -(-size // BLOCK)
            # Double quantisation: an 8-bit absmax per block, then per layer one fp32 absmax per 256 blocks, an fp32
            # offset and its own 256-entry fp32 code book.
            nested = -(-blocks // NESTED_BLOCK) * 4 + 4 + 256 * 4
            code = 16 * 4  # each layer's own copy of the 16-value nf4/fp4 code
            constants += code + (blocks * 4 if not config.quant.double_quant else blocks + nested)
    gradients = [n * size for n, size, _ in counts.trainable_tensors]
    return {
        "weights": weights,
        "quant_constants": constants,
        "adapters": sum(gradients) if method != "full" else 0,
        "gradients": max(gradients, default=0) if config.train.optimizer_in_backward else sum(gradients),
        "optimizer": optimizer_bytes(counts.trainable_tensors, config.train.optimizer,
                                     config.train.optimizer_in_backward),
    }
