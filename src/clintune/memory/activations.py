"""Activation memory of one training micro-batch, from the model's modules (built on the meta device).

The unit is what autograd saves for backward, counted as clintune trains. Two dtypes decide it: `w`, the dtype the
weights are held in, which is also the residual stream's (16-bit for a lean LoRA/QLoRA base, fp32 for full
fine-tuning's master weights), and `c`, the compute dtype (bf16/fp16 under autocast, else `w`). Which tensor feeds
which layer, and whether it needs a gradient, is read off one forward pass of the meta model (`trace_layers`): no
memory, no weights, exact for any architecture transformers builds. Per decoder layer:
- a Linear layer saves its input only when its weight is trained (full) or an adapter reads it (LoRA's A). Layers
  fed by the same tensor (q, k and v; gate and up) share one copy, unless autocast must cast an fp32 input to `c`,
  which it does once per layer; a frozen weight saves only itself, and under autocast its `c` copy (4-bit layers
  dequantise again in backward instead; full fine-tuning's trainable weights are cast once and cached);
- SDPA attention saves q, k, v, its output (which is also the output projection's input) and an fp32 log-sum-exp
  per head; a gated MLP saves the gate output, its activation and the up output, a plain MLP the fc1 output;
- RMSNorm/LayerNorm computes in fp32 and saves that copy of its input (and, with a trainable weight, the normalised
  values in `w`); nothing is saved where no gradient flows (below the first adapted layer's first adapter);
- LoRA saves its rank-r intermediate and the `c` copies of A and B (fp32 master weights, autocast casts them).
Outside the layers: rotary tables, the targets, and for the loss the trained positions' final hidden states (the
chunked and fused losses, train/loss.py) or, with the plain loss, the fp32 log-probabilities over every trained
position (vocabulary x tokens x 4 bytes).

With gradient checkpointing only each layer's input (the residual stream) is saved; one layer's full set is rebuilt
during backward, and full fine-tuning's cached weight casts of every layer live until the forward ends. Those, and
the loss's working set (one chunk's logits, their fp32 copy and gradient; or all of them for the plain loss), are
transient: they count in the peak but are not saved tensors, so `saved` and `transient` are reported apart
(measurement can only see `saved` on a CPU). With activation offloading, what is saved lives in CPU memory and only
the layer being differentiated comes back to the GPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from clintune.memory.estimate import adapted_linears


@dataclass
class Activations:
    saved: int  # held on the device from the end of the forward pass until backward frees it
    transient: int  # on top of `saved` at the peak: checkpoint recompute, cached weight casts, the loss's logits
    offloaded: int = 0  # saved, but in CPU memory (train.activation_offloading)

    @property
    def total(self) -> int:
        return self.saved + self.transient


@dataclass
class LinearUse:
    name: str  # inside its decoder layer, e.g. self_attn.q_proj
    module: nn.Linear
    input_key: int  # equal for the Linear layers that read the same tensor
    input_grad: bool  # that tensor needs a gradient
    from_norm: bool  # it is a norm's output (the residual stream's dtype), not a product of the compute dtype


@dataclass
class LayerTrace:
    linears: list[LinearUse]
    norms: list[tuple[nn.Module, bool]]  # each norm and whether its input needs a gradient
    attention_grad: bool  # the attention output needs a gradient (so SDPA saved its inputs)
    mlp_grad: bool  # the MLP's down projection input needs one (so the MLP saved its products)


def decoder_layers(model: nn.Module) -> nn.ModuleList:
    n_layers = model.config.get_text_config().num_hidden_layers
    for module in model.modules():
        if isinstance(module, nn.ModuleList) and len(module) == n_layers:
            return module
    raise ValueError("no list of decoder layers found in the model")


def _is_norm(module: nn.Module) -> bool:
    return "norm" in type(module).__name__.lower() and not list(module.children())


def trace_layers(model: nn.Module, trained: set[int]) -> list[LayerTrace]:
    """One forward pass of the meta model with the weights of `trained` (module ids; every module for full
    fine-tuning) requiring gradients: which tensor each Linear layer reads, and where gradients flow. Kept on the
    model, per trained set: the planner's suggestions plan the same model many times."""
    traces = model.__dict__.setdefault("_clintune_traces", {})
    key = frozenset(trained)
    if key not in traces:
        traces[key] = _trace(model, trained)
    return traces[key]


def _trace(model: nn.Module, trained: set[int]) -> list[LayerTrace]:
    layers = decoder_layers(model)
    uses: list[list] = [[] for _ in layers]
    norms: list[list] = [[] for _ in layers]
    norm_outputs: set[int] = set()
    alive: list[torch.Tensor] = []  # keeps every traced tensor referenced, so no id is reused
    hooks = []
    flags = {p: p.requires_grad for p in model.parameters()}
    for param in model.parameters():
        param.requires_grad_(False)
    for module in model.modules():
        if id(module) in trained:
            for param in module.parameters(recurse=False):
                param.requires_grad_(True)
    for index, layer in enumerate(layers):
        for name, module in layer.named_modules():
            if isinstance(module, nn.Linear):
                def linear_hook(mod, args, index=index, name=name):
                    alive.append(args[0])
                    uses[index].append((name, mod, id(args[0]), args[0].requires_grad))
                hooks.append(module.register_forward_pre_hook(linear_hook))
            elif _is_norm(module):
                def norm_hook(mod, args, output, index=index):
                    alive.extend((args[0], output))
                    norm_outputs.add(id(output))
                    norms[index].append((mod, args[0].requires_grad))
                hooks.append(module.register_forward_hook(norm_hook))
    try:
        # With a KV cache (the default) transformers does not look for packed sequences, which needs real values.
        model(input_ids=torch.zeros(1, 8, dtype=torch.long, device="meta"))
    finally:
        for hook in hooks:
            hook.remove()
        for param, flag in flags.items():
            param.requires_grad_(flag)
    traces = []
    for layer_uses, layer_norms in zip(uses, norms, strict=True):
        linears = [LinearUse(name, m, key, grad, key in norm_outputs) for name, m, key, grad in layer_uses]
        fed_by_products = [u for u in linears if not u.from_norm]
        traces.append(LayerTrace(linears, layer_norms,
                                 attention_grad=bool(fed_by_products) and fed_by_products[0].input_grad,
                                 mlp_grad=bool(fed_by_products) and fed_by_products[-1].input_grad))
    return traces


def _layer_saved(trace: LayerTrace, text, method: str, w: int, c: int, adapted: set[int], lora) -> tuple[int, int]:
    """(bytes per token, bytes independent of the token count) one decoder layer saves for backward."""
    full, cast = method == "full", w != c
    per_token = fixed = 0
    groups: dict[int, list[LinearUse]] = {}
    for use in trace.linears:
        groups.setdefault(use.input_key, []).append(use)
    attention_output = next((u.input_key for u in trace.linears if not u.from_norm), None)
    for key, group in groups.items():
        savers = [u for u in group if full or id(u.module) in adapted]
        if not savers or (key == attention_output and trace.attention_grad):
            continue  # nobody saves it, or it is SDPA's output, counted with the attention below
        copies = len(savers) if cast and group[0].from_norm else 1  # autocast casts a w input once per layer
        per_token += copies * group[0].module.in_features * c
    for use in trace.linears:
        linear = use.module
        if cast and method != "qlora" and (full or use.input_grad):
            fixed += linear.weight.numel() * c  # the autocast copy of the weight, kept for the input's gradient
        if id(linear) in adapted:
            per_token += lora.r * c
            if lora.dropout > 0:
                per_token += linear.in_features * (c + 1)  # the dropped-out input and its mask
            if method == "dora":
                # The base and adapter outputs, scaled by the magnitude. PEFT detaches the weight norm (as the DoRA
                # paper does), so the adapted weight it is computed from is not kept for backward.
                per_token += 2 * linear.out_features * c
            if c != 4:  # the adapters are fp32 master weights: autocast saves c copies of B, and of A when needed
                fixed += lora.r * linear.out_features * c + (lora.r * linear.in_features * c if use.input_grad else 0)
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // text.num_attention_heads
    kv_heads = getattr(text, "num_key_value_heads", None) or text.num_attention_heads
    if trace.attention_grad:
        per_token += (2 * text.num_attention_heads + 2 * kv_heads) * head_dim * c + 4 * text.num_attention_heads
    if trace.mlp_grad:
        gated = any("gate" in use.name for use in trace.linears)
        out_bytes = w if method == "qlora" else c  # bitsandbytes returns its input's dtype
        per_token += (3 if gated else 1) * text.intermediate_size * out_bytes
    for norm, input_grad in trace.norms:
        if input_grad or full:
            per_token += _norm_bytes(norm, text.hidden_size, w, full)
    return per_token, fixed


def _norm_bytes(norm: nn.Module, hidden: int, w: int, trainable: bool) -> int:
    width = norm.weight.shape[0] if getattr(norm, "weight", None) is not None else hidden
    return width * 4 + 4 + (width * w if trainable else 0)  # fp32 input copy, 1/rms, normalised values


def estimate_activations(model: nn.Module, config, batch_size: int, seq_len: int, weights_bytes: int,
                         compute_bytes: int, loss: str, offload: bool = False) -> Activations:
    """`model`: the base model on the meta device; `config`: the RunConfig (method, LoRA, checkpointing); `loss`:
    'plain', 'chunked' or 'fused' (devices.resolve_loss), or 'trl' (TRL's DPO and KTO: a fused head over the answer
    positions); `offload`: saved activations go to CPU memory."""
    text = model.config.get_text_config()
    train = config.train
    method = train.method
    w, c = weights_bytes, compute_bytes
    tokens = batch_size * seq_len
    adapted = {id(m) for m in adapted_linears(model, config)} if method != "full" else set()
    trained = {id(m) for m in model.modules()} if method == "full" else adapted
    per_layer = [_layer_saved(t, text, method, w, c, adapted, config.lora) for t in trace_layers(model, trained)]
    layer_saved = [tokens * per_token + fixed for per_token, fixed in per_layer]

    head = model.get_output_embeddings()
    hidden, vocab = text.hidden_size, text.vocab_size
    head_dim = getattr(text, "head_dim", None) or hidden // text.num_attention_heads
    outside = tokens * (8 + 1)  # the targets (int64) and the mask of trained positions
    if not train.gradient_checkpointing:  # (checkpointed layers take them as inputs and rebuild what uses them)
        outside += 2 * seq_len * head_dim * w  # rotary cos and sin, shared by the layers
    final_norm = [m for m in model.modules() if _is_norm(m)][-1]
    outside += tokens * _norm_bytes(final_norm, hidden, w, method == "full")
    head_copy = head.weight.numel() * c if w != c else 0  # autocast's copy of the head weight
    if loss == "plain":
        outside += tokens * hidden * c + head_copy + tokens * vocab * 4  # head input, weight copy, fp32 log-probs
        loss_working_set = tokens * vocab * (c + 4)  # the logits, then their fp32 upcast or gradient
    elif loss == "trl":
        # TRL's preference trainers add a fused head: only the answer positions go through it, in tiles, so no
        # [tokens x vocabulary] logits exist; what stays is the head's input and one fp32 log-probability a token.
        outside += tokens * (hidden * c + 4) + head_copy
        loss_working_set = min(tokens, train.loss_chunk_size) * vocab * (c + 4)  # one tile's logits, in fp32 too
    else:
        outside += tokens * hidden * w  # the trained positions' hidden states
        if loss == "fused":
            loss_working_set = tokens * hidden * (w + 4) + (head.weight.numel() * 4 if method == "full" else 0)
        else:
            chunk = min(tokens, train.loss_chunk_size)
            # At most three fp32 [chunk x vocabulary] tensors at once: in backward, the rebuilt log-softmax output,
            # its gradient and the logits' gradient (the 16-bit logits are gone by then); and autocast's copy of the
            # head weight, made inside each checkpointed chunk, so never saved for backward.
            loss_working_set = chunk * vocab * 12 + head_copy

    if train.gradient_checkpointing:
        saved = len(layer_saved) * tokens * hidden * w + outside  # the residual stream entering each layer
        recompute = max(layer_saved) if layer_saved else 0
        cached_casts = sum(fixed for _, fixed in per_layer) if method == "full" else 0
        # The loss's working set is gone before backward reaches the last layer and rebuilds it; full fine-tuning's
        # cached casts live until the forward pass (the loss included) ends.
        transient = max(recompute, cached_casts + loss_working_set, loss_working_set)
    else:
        saved, transient = sum(layer_saved) + outside, loss_working_set
    if offload:
        # Saved tensors wait in CPU memory; backward brings back the layer it is differentiating.
        back = tokens * hidden * w if train.gradient_checkpointing else max(layer_saved, default=0)
        return Activations(saved=0, transient=transient + back, offloaded=saved)
    return Activations(saved=saved, transient=transient)
