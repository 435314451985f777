"""Activation memory of one training micro-batch, from the model's modules (built on the meta device).

The unit is what autograd saves for backward, counted op by op as clintune trains: fp32 weights with autocast to
the compute dtype (bf16/fp16), or no autocast in fp32. Per token of every decoder layer that saves:
- each Linear saves its input cast to the compute dtype (q, k and v cast the same input three times: autocast
  caches casts of trainable leaf weights only, never of activations);
- under autocast each Linear also saves the compute-dtype copy of its weight (the base of LoRA is cast per use; full
  fine-tuning's trainable weights are cast once and cached); 4-bit layers dequantise again in backward instead;
- SDPA attention saves q, k, v, its output and an fp32 log-sum-exp per head;
- a gated MLP saves the gate output, its activation and the up output; a plain MLP the fc1 output; under QLoRA these
  are fp32, because bitsandbytes returns its input's dtype and the norms before were upcast to fp32;
- RMSNorm/LayerNorm computes in fp32 and saves its input (and, with a trainable weight, the normalised values);
- LoRA saves its rank-r intermediate and the compute-dtype copies of A and B.
Outside the layers: the vocabulary head's input and weight copy, rotary tables, the targets, and the fp32
log-probabilities of the loss over every trained position (vocabulary x tokens x 4 bytes).

With gradient checkpointing only each layer's input (the fp32 residual stream) is saved; one layer's full set is
rebuilt during backward, and full fine-tuning's cached weight casts of every layer live until the forward ends.
Those, and the loss's working set (the logits and their fp32 upcast), are transient: they count in the peak but are
not saved tensors, so `saved` and `transient` are reported apart (measurement can only see `saved` on a CPU).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from torch import nn

from clintune.memory.estimate import adapted_linears

_LAYER_INDEX = re.compile(r"\.(\d+)\.")


@dataclass
class Activations:
    saved: int  # held from the end of the forward pass until backward frees it
    transient: int  # on top of `saved` at the peak: checkpoint recompute, cached weight casts, the loss's logits

    @property
    def total(self) -> int:
        return self.saved + self.transient


def decoder_layers(model: nn.Module) -> nn.ModuleList:
    n_layers = model.config.get_text_config().num_hidden_layers
    for module in model.modules():
        if isinstance(module, nn.ModuleList) and len(module) == n_layers:
            return module
    raise ValueError("no list of decoder layers found in the model")


def _is_norm(module: nn.Module) -> bool:
    return "norm" in type(module).__name__.lower() and not list(module.children())


def _layer_bytes_per_token(layer: nn.Module, text, method: str, c: int, adapted: set[int], r: int) -> tuple[int, int]:
    """(bytes per token, weight-copy bytes) saved by one decoder layer."""
    trainable_norms = method == "full"
    linears = {name: m for name, m in layer.named_modules() if isinstance(m, nn.Linear)}
    per_token = sum(m.in_features for m in linears.values()) * c
    weight_copies = 0
    if c < 4 and method in ("full", "lora", "dora"):
        weight_copies = sum(m.weight.numel() for m in linears.values()) * c
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // text.num_attention_heads
    kv_heads = getattr(text, "num_key_value_heads", None) or text.num_attention_heads
    q_dim, kv_dim = text.num_attention_heads * head_dim, kv_heads * head_dim
    per_token += (2 * q_dim + 2 * kv_dim) * c + 4 * text.num_attention_heads
    gated = any("gate" in name for name in linears)
    mlp_bytes = 4 if method == "qlora" else c
    per_token += (3 if gated else 1) * text.intermediate_size * mlp_bytes
    for module in layer.modules():
        if _is_norm(module):
            width = module.weight.shape[0] if getattr(module, "weight", None) is not None else text.hidden_size
            per_token += (2 if trainable_norms else 1) * width * 4 + 4
    for module in linears.values():
        if id(module) in adapted:
            per_token += r * c
            if c < 4 and method != "qlora":  # QLoRA's adapters are bf16 already (TRL casts them)
                weight_copies += r * (module.in_features + module.out_features) * c
    return per_token, weight_copies


def estimate_activations(model: nn.Module, config, batch_size: int, seq_len: int, compute_bytes: int) -> Activations:
    """`model`: the base model on the meta device; `config`: the RunConfig (method, LoRA, checkpointing)."""
    text = model.config.get_text_config()
    method = config.train.method
    c = compute_bytes
    tokens = batch_size * seq_len
    layers = decoder_layers(model)
    adapted_modules = adapted_linears(model, config) if method != "full" else []
    adapted = {id(m) for m in adapted_modules}
    per_layer = [_layer_bytes_per_token(layer, text, method, c, adapted, config.lora.r) for layer in layers]
    # Below the lowest adapted layer nothing needs a gradient, so a LoRA base there saves nothing.
    first = 0
    if method != "full" and config.lora.top_layers:
        first = len(layers) - config.lora.top_layers
    layer_saved = [tokens * t + w for t, w in per_layer[first:]]

    head = model.get_output_embeddings()
    hidden, vocab = text.hidden_size, text.vocab_size
    head_dim = getattr(text, "head_dim", None) or hidden // text.num_attention_heads
    outside = tokens * 8  # the targets (int64)
    outside += 2 * seq_len * head_dim * 4  # rotary cos and sin, shared by the layers
    outside += tokens * ((2 if method == "full" else 1) * hidden * 4 + 4)  # the final norm
    outside += tokens * hidden * c + (head.weight.numel() * c if c < 4 else 0)  # head input and weight copy
    outside += tokens * vocab * 4  # log-probabilities of the loss (fp32)
    loss_working_set = tokens * vocab * (c + 4 if c < 4 else 4)  # the logits, then their fp32 upcast or gradient

    if not config.train.gradient_checkpointing:
        return Activations(saved=sum(layer_saved) + outside, transient=loss_working_set)
    checkpoint_inputs = len(layers) * tokens * hidden * 4  # the residual stream entering each layer (fp32)
    recompute = max(layer_saved) if layer_saved else 0
    cached_casts = sum(w for _, w in per_layer) if method == "full" else 0
    return Activations(saved=checkpoint_inputs + outside,
                       transient=max(recompute + loss_working_set, cached_casts + loss_working_set))
