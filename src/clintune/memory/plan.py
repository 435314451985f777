"""The memory plan of a training step: every component, the verdict against a GPU, and what would make it fit.

`total` is the predicted peak of one micro-batch step: weights + quantisation constants + adapters + gradients +
optimizer state + activations (saved and transient) + overhead. Gradients count in full because with gradient
accumulation they stay allocated while the next micro-batch saves its activations.

A preference stage plans what TRL does: DPO runs chosen and rejected through the model in one forward (twice the
sequences), KTO the batch's answers; both through the fused head TRL adds (no full logits: the 'trl' loss), and
their reference forwards without gradients before the policy's, so those add no saved activations; the reference's
frozen copy of the adapter counts with the adapters.

Overhead (GPUs only; a CPU run has none beyond its tensors): the CUDA context with the kernels and cuBLAS workspace
that torch loads, taken as 0.5 GiB, plus 5% of what is allocated and freed every step (activations, gradients) for the
caching allocator's fragmentation; weights and optimizer state are allocated once. Both are typical figures, not
measured here; `clintune memory --measure` on the GPU gives the real peak.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from torch import nn

from clintune.config import RunConfig
from clintune.devices import resolve_loss, resolve_weights_dtype
from clintune.memory.activations import estimate_activations
from clintune.memory.estimate import DTYPE_BYTES, count_parameters, state_bytes
from clintune.memory.units import COMPONENTS, GIB

CUDA_CONTEXT = GIB // 2
ALLOCATOR_SLACK = 0.05
FIT_MARGIN = 0.10  # `clintune train` refuses only when the plan exceeds free memory by more than this


@dataclass
class MemoryPlan:
    params_total: int
    params_trainable: int
    bytes: dict[str, int]
    activations_saved: int
    activations_transient: int
    kv_cache: int  # inference: keys and values of every layer for the prompt plus the generated tokens
    inference_weights: int
    capacity: int | None = None
    suggestions: list[dict] = field(default_factory=list)
    loss: str = "chunked"  # how the loss is computed (train/loss.py)
    weights_dtype: str = "bf16"  # how the weights are held
    activations_offloaded: int = 0  # saved activations kept in CPU memory instead (train.activation_offloading)

    @property
    def fits(self) -> bool | None:
        return None if self.capacity is None else self.bytes["total"] <= self.capacity

    def contract(self) -> dict:
        """The JSON that scripts read (`clintune memory --json`)."""
        return {"params_total": self.params_total, "params_trainable": self.params_trainable,
                "bytes": dict(self.bytes), "fits": self.fits,
                "activations": {"saved": self.activations_saved, "transient": self.activations_transient,
                                "offloaded_to_cpu": self.activations_offloaded},
                "weights_dtype": self.weights_dtype, "loss": self.loss,
                "inference": {"weights": self.inference_weights, "kv_cache": self.kv_cache},
                "capacity": self.capacity, "suggestions": self.suggestions}


def plan_memory(model: nn.Module, config: RunConfig, precision: str, device: str = "cuda",
                capacity: int | None = None, generate_tokens: int = 256, stage: str = "sft") -> MemoryPlan:
    """`model`: the base model built on the meta device; batch and length come from config.train; `stage` is sft
    (pretrain plans the same), dpo or kto."""
    train = config.train
    weights_dtype = resolve_weights_dtype(train.weights_dtype, train.method, precision)
    w = DTYPE_BYTES[weights_dtype]
    counts = count_parameters(model, config, w)
    parts = state_bytes(counts, config, w)
    c = DTYPE_BYTES[precision] if precision != "fp32" else w
    sharded = config.distributed.fsdp != "off" or config.distributed.deepspeed_zero == 3
    loss = resolve_loss(train.loss, model, device, sharded)
    sequences = train.batch_size
    if stage in ("dpo", "kto"):
        loss = "trl"
        sequences *= 2 if stage == "dpo" else 1
        reference = parts["adapters"]  # TRL's frozen copy of the SFT adapter, as PEFT made it
        if train.method == "qlora":
            # TRL casts a quantised model's trained adapter to bf16 (the QLoRA paper's choice), so its gradients and
            # a torch optimizer's moments are bf16 too.
            counts = replace(counts, trainable_tensors=[(n, 2, eight) for n, _, eight in counts.trainable_tensors])
            parts.update({key: state_bytes(counts, config, w)[key] for key in ("adapters", "gradients", "optimizer")})
        parts["adapters"] += reference
    offload = train.activation_offloading and device == "cuda"  # on a CPU there is nowhere else to put them
    activations = estimate_activations(model, config, sequences, train.max_length, w, c, loss, offload)
    parts["activations"] = activations.total
    churn = parts["activations"] + parts["gradients"]  # allocated and freed every step: what fragments
    parts["overhead"] = CUDA_CONTEXT + int(ALLOCATOR_SLACK * churn) if device == "cuda" else 0
    parts = {key: parts[key] for key in COMPONENTS}
    parts["total"] = sum(parts.values())
    text = model.config.get_text_config()
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // text.num_attention_heads
    kv_heads = getattr(text, "num_key_value_heads", None) or text.num_attention_heads
    kv_cache = 2 * text.num_hidden_layers * kv_heads * head_dim * c * train.batch_size * (
        train.max_length + generate_tokens)
    inference_weights = (parts["weights"] + parts["quant_constants"] if train.method == "qlora"
                         else counts.total * c)
    return MemoryPlan(counts.total, counts.trainable, parts, activations.saved, activations.transient, kv_cache,
                      inference_weights, capacity, loss=loss, weights_dtype=weights_dtype,
                      activations_offloaded=activations.offloaded)


def _with(config: RunConfig, **train) -> RunConfig:
    return config.model_copy(update={"train": config.train.model_copy(update=train)})


def suggest(model: nn.Module, config: RunConfig, precision: str, device: str, capacity: int,
            stage: str = "sft") -> list[dict]:
    """Changes that bring the plan under `capacity`, least disruptive first, each with its own estimate; if no
    single change is enough, they are combined in that order until the plan fits."""
    train = config.train
    candidates = []
    if train.batch_size > 1:
        batch = 1
        if train.optimizer_in_backward:  # no accumulation there: a smaller effective batch
            candidates.append(("batch size 1 (the optimizer steps inside backward, so no accumulation)",
                               {"batch_size": batch}))
        else:
            accum = train.grad_accum * train.batch_size
            candidates.append((f"batch size {batch} with {accum} accumulation steps (same effective batch)",
                               {"batch_size": batch, "grad_accum": accum}))
    if not train.gradient_checkpointing:
        candidates.append(("gradient checkpointing (about 30% slower steps)", {"gradient_checkpointing": True}))
    if train.optimizer not in ("adamw_8bit", "paged_adamw_8bit", "sgd"):
        candidates.append(("an 8-bit optimizer (paged_adamw_8bit)", {"optimizer": "paged_adamw_8bit"}))
    if device == "cuda" and not train.activation_offloading:
        candidates.append(("activation offloading to CPU memory (slower steps)", {"activation_offloading": True}))
    if train.method == "full" and train.weights_dtype in ("auto", "fp32") and precision == "bf16":
        candidates.append(("pure-bf16 weights (no fp32 master copy)", {"weights_dtype": "bf16"}))
    if train.method == "full" and not train.optimizer_in_backward and precision != "fp16" \
            and config.distributed.nproc == 1:
        candidates.append(("the optimizer step inside backward (no accumulation, no clipping)",
                           {"optimizer_in_backward": True, "grad_accum": 1, "max_grad_norm": 0}))
    if train.method != "qlora":
        candidates.append(("QLoRA: a 4-bit base with LoRA adapters", {"method": "qlora"}))
    if train.max_length > 128:
        candidates.append((f"sequences of {train.max_length // 2} tokens", {"max_length": train.max_length // 2}))

    def overrides(change: dict) -> str:
        return " ".join(f"train.{key}={str(value).lower()}" for key, value in change.items())

    suggestions, combined, names = [], {}, []
    for text, change in candidates:
        total = plan_memory(model, _with(config, **change), precision, device, stage=stage).bytes["total"]
        suggestions.append({"change": text, "overrides": overrides(change), "total": total, "fits": total <= capacity})
    if not any(s["fits"] for s in suggestions):
        for text, change in candidates:
            combined.update(change)
            names.append(text.split(" (")[0])
            total = plan_memory(model, _with(config, **combined), precision, device, stage=stage).bytes["total"]
            if total <= capacity:
                suggestions.append({"change": " + ".join(names), "overrides": overrides(combined), "total": total,
                                    "fits": True})
                break
    return sorted(suggestions, key=lambda s: not s["fits"])


def suggestion_lines(suggestions: list[dict]) -> list[str]:
    return [f"  {rank}. {item['change']}: {item['total'] / GIB:.2f} GiB, {'fits' if item['fits'] else 'too big'} "
            f"({item['overrides']})" for rank, item in enumerate(suggestions, 1)]


def describe_plan(plan: MemoryPlan) -> str:
    """One line for the training log."""
    parts = ", ".join(f"{k} {v / GIB:.2f}" for k, v in plan.bytes.items() if v and k != "total")
    return f"memory plan (GiB): {parts}; peak {plan.bytes['total'] / GIB:.2f}"


@dataclass
class MemoryCheck:
    """How `clintune train` holds the plan against the device: `limit` replaces the free memory it finds."""

    limit: int | None = None
    force: bool = False


def check_plan(model: nn.Module, config: RunConfig, precision: str, device: str, check: MemoryCheck,
               say) -> MemoryPlan:
    """Print the plan; refuse (exit 2, with suggestions) when it exceeds the free memory by more than the margin."""
    from clintune.errors import ClintuneError
    from clintune.memory.measure import free_memory

    available = check.limit if check.limit is not None else free_memory(device)
    plans = {stage: plan_memory(model, config, precision, device, available, stage=stage) for stage in config.stages}
    stage, plan = max(plans.items(), key=lambda item: item[1].bytes["total"])
    say(describe_plan(plan) + (f" (stage {stage}, the largest)" if len(plans) > 1 else ""))
    if available is None or plan.bytes["total"] <= available * (1 + FIT_MARGIN):
        return plan
    need, have = plan.bytes["total"] / GIB, available / GIB
    if check.force:
        say(f"warning: the plan needs {need:.2f} GiB and {have:.2f} GiB is free; going on because of --force")
        return plan
    for line in suggestion_lines(suggest(model, config, precision, device, available, stage)):
        say(line)
    where = f"the limit of {have:.3f} GiB" if check.limit is not None else f"{have:.3f} GiB free on the {device}"
    raise ClintuneError(f"the memory plan needs {need:.3f} GiB, more than {where}",
                        fix="apply one of the suggestions above through key=value overrides, or pass --force "
                        "to train anyway")
