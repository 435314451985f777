"""clintune's trainer: TRL's SFTTrainer, customised only through its config, the collator, the loss, the optimizer
hook the HF trainer documents (`create_optimizer`) and callbacks.

Both stages arrive already tokenized (stage 1: fixed blocks of notes; stage 2: prompt + answer + EOS with the prompt's
labels at -100), so TRL's own templating and truncation never touch them. What differs from SFTTrainer's defaults,
for speed and memory on small hardware (benchmarks/train_throughput.py and memory_accuracy.py measure them):
- the vocabulary head runs only over positions whose next token is trained (a boolean `logits_to_keep`), and the
  loss is chunked or fused so no [tokens x vocabulary] fp32 tensor exists (train/loss.py);
- trainable weights are fp32 whatever the base's dtype (TRL casts a quantised model's adapters to bf16; they are cast
  back before the optimizer sees them), and under autocast PEFT's per-layer fp32 copy of each adapter's input is
  skipped (`peft.helpers.disable_input_dtype_casting`, PEFT's documented switch): autocast computes the adapter in
  the compute dtype either way, the copy only cost activation memory;
- optionally the optimizer steps inside backward (train/optimizer_in_backward.py) and saved activations live in CPU
  memory (train/offload.py);
- no per-token entropy or accuracy metrics at every step;
- batches are left-padded and length-grouped, or padding-free (`train.packing`).
A loss that is not finite stops the run at once, before the optimizer applies it.
"""

from __future__ import annotations

import contextlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from trl import SFTConfig, SFTTrainer

from clintune.config import RunConfig
from clintune.devices import resolve_loss
from clintune.errors import ClintuneError
from clintune.train.loss import summed_loss
from clintune.train.offload import OffloadActivations
from clintune.train.optimizer_in_backward import OptimizerInBackward


@dataclass
class StepOptions:
    """What a training step does beyond the HF trainer's arguments (from `train.*`; see config.TrainSection)."""

    loss: str = "auto"
    loss_chunk_size: int = 256
    optimizer_in_backward: bool = False
    activation_offloading: bool = False

    @classmethod
    def from_config(cls, config: RunConfig) -> StepOptions:
        train = config.train
        return cls(train.loss, train.loss_chunk_size, train.optimizer_in_backward, train.activation_offloading)


class AdapterInputsUncast:
    """A trainer mixin: under autocast, PEFT's fp32 copy of each adapter's input is skipped (PEFT's documented switch):
    autocast computes the adapter in the compute dtype either way, and each copy would be kept for backward, per
    adapted linear. clintune's SFT trainer and its DPO and KTO trainers train this way."""

    def train(self, *args, **kwargs):
        if not (self.args.bf16 or self.args.fp16) or not hasattr(self.model, "peft_config"):
            return super().train(*args, **kwargs)
        from peft.helpers import disable_input_dtype_casting

        with disable_input_dtype_casting(self.model):
            return super().train(*args, **kwargs)


class ClintuneTrainer(AdapterInputsUncast, SFTTrainer):
    def __init__(self, *args, step: StepOptions | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.step_options = step or StepOptions()
        if hasattr(self.model, "peft_config"):  # adapters: fp32 master weights, whatever TRL cast them to
            for param in self.model.parameters():
                if param.requires_grad and param.dtype != torch.float32:
                    param.data = param.data.float()
        device = self.args.device.type
        sharded = self.is_fsdp_enabled or bool(self.is_deepspeed_enabled and self.args.deepspeed_plugin
                                               and self.args.deepspeed_plugin.zero_stage == 3)
        self.loss_kind = resolve_loss(self.step_options.loss, self.model, device, sharded)
        self.offload = (OffloadActivations(self.model, device)
                        if self.step_options.activation_offloading and device != "cpu" else None)

    def train(self, *args, **kwargs):
        try:
            return super().train(*args, **kwargs)
        finally:
            in_backward = getattr(self.optimizer, "optimizer", self.optimizer)  # accelerate wraps it
            if isinstance(in_backward, OptimizerInBackward):
                in_backward.remove_hooks()  # a later stage's trainer brings its own

    def create_optimizer(self, model=None):
        if not self.step_options.optimizer_in_backward or self.optimizer is not None:
            return super().create_optimizer(model)
        opt_model = self.model if model is None else model
        optimizer_cls, kwargs = self.get_optimizer_cls_and_kwargs(self.args, opt_model)
        decay = set(self.get_decay_parameter_names(opt_model))
        # As the HF trainer does for its 8-bit optimizers, embeddings keep 32-bit optimizer state.
        embeddings = {id(m.weight) for m in opt_model.modules() if isinstance(m, nn.Embedding)}
        names = {id(p): n for n, p in opt_model.named_parameters()}

        def make(param):
            extra = {"optim_bits": 32} if kwargs.get("optim_bits") == 8 and id(param) in embeddings else {}
            group = {"params": [param], "weight_decay": self.args.weight_decay if names[id(param)] in decay else 0.0}
            return optimizer_cls([group], **{**kwargs, **extra})

        self.optimizer = OptimizerInBackward([p for p in opt_model.parameters() if p.requires_grad], make)
        return self.optimizer

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        targets = labels[:, 1:]
        trained = targets != -100
        keep = torch.zeros_like(labels, dtype=torch.bool)
        keep[:, :-1] = trained
        head = self.accelerator.unwrap_model(model).get_output_embeddings()
        kind = "plain" if return_outputs else self.loss_kind  # evaluation wants the logits
        with self.offload or contextlib.nullcontext():
            loss, outputs = summed_loss(model, head, inputs, keep, targets[trained], kind,
                                        self.step_options.loss_chunk_size, self.accelerator.autocast())
        # Dividing by the token count of the whole accumulated batch (not this micro-batch) is what makes gradient
        # accumulation equal to one large batch.
        count = num_items_in_batch if num_items_in_batch is not None else trained.sum()
        loss = loss / torch.as_tensor(count, device=loss.device).clamp(min=1)
        if self.args.average_tokens_across_devices and num_items_in_batch is not None:
            loss = loss * self.accelerator.num_processes
        if model.training and not torch.isfinite(loss.detach()):
            raise ClintuneError(
                f"the training loss became {loss.item()} at step {self.state.global_step + 1}",
                where=self.args.output_dir,
                fix="lower train.lr or use train.precision=bf16/fp32, then rerun with --resume from the last "
                "complete checkpoint (it is kept)",
            )
        return (loss, outputs) if return_outputs else loss


def _fsdp_settings(config: RunConfig) -> dict:
    dist = config.distributed
    if dist.fsdp == "off":
        return {}
    # FSDP2 through accelerate: full_shard frees the gathered weights after each forward, shard_grad_op keeps them.
    fsdp_config: dict = {"reshard_after_forward": dist.fsdp == "full_shard",
                         "activation_checkpointing": config.train.gradient_checkpointing}
    if dist.fsdp_wrap:
        fsdp_config["transformer_layer_cls_to_wrap"] = [dist.fsdp_wrap]
    return {"fsdp": True, "fsdp_config": fsdp_config}


def _deepspeed_settings(config: RunConfig) -> dict:
    stage = config.distributed.deepspeed_zero
    if not stage:
        return {}
    if importlib.util.find_spec("deepspeed") is None:
        raise ClintuneError(f"distributed.deepspeed_zero={stage} needs the deepspeed package, which is not installed",
                            fix="pip install deepspeed on the GPU machine, or use distributed.fsdp instead")
    # "auto" lets accelerate fill in what the training arguments already say, so the two can never disagree.
    return {"deepspeed": {
        "zero_optimization": {"stage": stage},
        "bf16": {"enabled": "auto"}, "fp16": {"enabled": "auto"},
        "train_micro_batch_size_per_gpu": "auto", "train_batch_size": "auto",
        "gradient_accumulation_steps": "auto", "gradient_clipping": "auto",
    }}


def trainer_config(config: RunConfig, stage: str, output_dir: Path, device: str, precision: str) -> SFTConfig:
    """Every SFTConfig default that matters is set explicitly (TRL 1.x defaults: bf16 on, checkpointing on, lr 2e-5)."""
    train = config.train
    pretrain = stage == "pretrain"
    sharded = config.distributed.fsdp != "off"
    return SFTConfig(
        output_dir=str(output_dir),
        per_device_train_batch_size=train.batch_size,
        gradient_accumulation_steps=train.grad_accum,
        learning_rate=(config.pretrain.lr or train.lr) if pretrain else train.lr,
        lr_scheduler_type=train.scheduler,
        warmup_steps=train.warmup_ratio,  # a float below 1 is a ratio of the total steps
        weight_decay=train.weight_decay,
        num_train_epochs=config.pretrain.epochs if pretrain else train.epochs,
        max_steps=train.max_steps,
        max_grad_norm=train.max_grad_norm,
        optim=train.optimizer,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=device == "cpu",
        # FSDP checkpoints inside its own wrapping; the trainer's checkpointing would wrap twice.
        activation_checkpointing=train.gradient_checkpointing and not sharded,
        activation_checkpointing_kwargs={"use_reentrant": False},
        gradient_checkpointing=None,  # the deprecated alias; TRL defaults it to True
        max_length=None,  # lengths are checked before training; TRL must never cut an answer off
        packing=False,  # our collators pack (padding-free) or pad; TRL's packing would re-cut the examples
        padding_free=False,
        train_sampling_strategy="group_by_length" if stage == "sft" and not train.packing else "random",
        include_num_input_tokens_seen="all" if train.packing or pretrain else "non_padding",
        logging_steps=train.logging_steps,
        logging_first_step=True,
        save_strategy="steps" if train.save_steps else "no",
        save_steps=train.save_steps or 500,
        save_total_limit=train.keep_checkpoints,
        report_to="none",  # TensorBoard is added as a callback with its own folder (see train.callbacks)
        disable_tqdm=True,  # the Rich progress bar replaces tqdm
        seed=train.seed,
        data_seed=train.seed,
        dataloader_num_workers=0,
        remove_unused_columns=True,
        ddp_find_unused_parameters=False,
        ddp_backend=None,  # accelerate picks gloo on CPUs and NCCL on GPUs
        **_fsdp_settings(config),
        **_deepspeed_settings(config),
    )
