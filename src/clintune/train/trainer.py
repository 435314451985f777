"""clintune's trainer: TRL's SFTTrainer, customised only through its config, the collator, the loss and callbacks.

Both stages arrive already tokenized (stage 1: fixed blocks of notes; stage 2: prompt + answer + EOS with the prompt's
labels at -100), so TRL's own templating and truncation never touch them. What differs from SFTTrainer's defaults,
each for speed on small hardware (benchmarks/train_throughput.py measures every one):
- the vocabulary head runs only over positions whose next token is trained (a boolean `logits_to_keep`), instead of
  over every position; for a 49k vocabulary that head is most of a small model's step;
- no per-token entropy or accuracy metrics at every step;
- batches are left-padded and length-grouped, or padding-free (`train.packing`).
A loss that is not finite stops the run at once, before the optimizer applies it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
import torch.nn.functional as F
from trl import SFTConfig, SFTTrainer

from clintune.config import RunConfig
from clintune.errors import ClintuneError


class ClintuneTrainer(SFTTrainer):
    def _send_telemetry(self):
        # TRL pings the Hub when a trainer is created; clinical work sends nothing, whatever the environment says.
        return None

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        targets = labels[:, 1:]
        trained = targets != -100
        keep = torch.zeros_like(labels, dtype=torch.bool)
        keep[:, :-1] = trained
        outputs = model(**inputs, use_cache=False, logits_to_keep=keep)
        loss = F.cross_entropy(outputs.logits.float(), targets[trained], reduction="sum")
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
