"""Stage `sft`: instruction fine-tuning with TRL's SFTTrainer, customised only through config, collator and loss.

The data arrive already tokenized by `clintune.prompts` (prompt + answer + EOS, prompt labels -100), so TRL's own
templating and truncation never touch them. Two things differ from SFTTrainer's defaults, both for speed on small
hardware:
- the loss runs the vocabulary head only over the answer span (`logits_to_keep`), instead of over every position
  as TRL's fused head does off-GPU; for a 49k vocabulary that head is most of a small model's step;
- no per-token entropy or accuracy metrics are computed at every step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from datasets import Dataset
from trl import SFTConfig, SFTTrainer

from clintune.config import TrainSection
from clintune.train.collator import LeftPaddingCollator


class AnswerHeadSFTTrainer(SFTTrainer):
    def _send_telemetry(self):
        # TRL pings the Hub when a trainer is created; clinical work sends nothing, whatever the environment says.
        return None

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        trained = labels != -100
        # With left padding the answers are right-aligned: the head is needed from the earliest answer onwards.
        columns = trained.any(dim=0).nonzero()
        first = max(int(columns[0]) if len(columns) else labels.shape[1] - 1, 1)
        keep = labels.shape[1] - first + 1
        outputs = model(**inputs, use_cache=False, logits_to_keep=keep)
        logits = outputs.logits[:, :-1, :]
        targets = labels[:, first:]
        loss = F.cross_entropy(
            logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100, reduction="sum"
        )
        # Dividing by the token count of the whole accumulated batch (not this micro-batch) is what makes gradient
        # accumulation equal to one large batch.
        count = num_items_in_batch if num_items_in_batch is not None else trained.sum()
        loss = loss / torch.as_tensor(count, device=loss.device).clamp(min=1)
        if self.args.average_tokens_across_devices and num_items_in_batch is not None:
            loss = loss * self.accelerator.num_processes
        return (loss, outputs) if return_outputs else loss


@dataclass
class TrainResult:
    log_history: list[dict]
    steps: int
    seconds: float


def sft_config(section: TrainSection, output_dir: Path, device: str, bf16: bool) -> SFTConfig:
    """Every SFTConfig default that is wrong for us is set explicitly (TRL 1.x: bf16 on, checkpointing on, lr 2e-5)."""
    return SFTConfig(
        output_dir=str(output_dir),
        per_device_train_batch_size=section.batch_size,
        gradient_accumulation_steps=section.grad_accum,
        learning_rate=section.lr,
        lr_scheduler_type=section.scheduler,
        warmup_steps=section.warmup_ratio,
        weight_decay=section.weight_decay,
        num_train_epochs=section.epochs,
        max_steps=section.max_steps,
        bf16=bf16,
        fp16=False,
        use_cpu=device == "cpu",
        activation_checkpointing=section.gradient_checkpointing,
        gradient_checkpointing=None,  # the deprecated name; TRL defaults it to True
        max_length=None,  # lengths are checked before training; TRL must never cut an answer off
        packing=False,
        train_sampling_strategy="group_by_length",
        logging_steps=1,
        logging_first_step=True,
        save_strategy="no",
        report_to="none",
        seed=section.seed,
        data_seed=section.seed,
        dataloader_num_workers=0,
        remove_unused_columns=True,
        ddp_find_unused_parameters=False,
    )


def train_sft(model, tokenizer, train_data: Dataset, section: TrainSection, output_dir: Path, device: str,
              bf16: bool) -> TrainResult:
    trainer = AnswerHeadSFTTrainer(
        model=model,
        args=sft_config(section, output_dir, device, bf16),
        train_dataset=train_data,
        processing_class=tokenizer,
        data_collator=LeftPaddingCollator(tokenizer.pad_token_id),
    )
    output = trainer.train()
    # accelerate wrapped the model's forward in autocast with fp32 outputs for training; hand it back without that.
    # (TRL also gave the base model a fused-head forward; clintune evaluates a fresh load of base + saved adapter.)
    trainer.accelerator.unwrap_model(trainer.model, keep_fp32_wrapper=False)
    return TrainResult(trainer.state.log_history, trainer.state.global_step, output.metrics["train_runtime"])
