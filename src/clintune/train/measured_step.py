"""Real training steps of a model with memory accounting, to check the estimate (`clintune memory --measure`).

The steps go through clintune's own path: the model from `model_for_method`, the trainer from `trainer_config`,
batches of random token blocks with every position trained (the estimate's worst case). What is measured:
- weights, quantisation constants, adapters, gradients and optimizer state: the bytes of the actual tensors, each
  storage once, taken right after an optimizer step (before the gradients are released);
- activations: the bytes autograd saved for backward and still holds when the forward pass ends (SavedTensorMeter);
- on CUDA, `torch.cuda.max_memory_allocated` over the steps; everywhere, the process's peak RSS.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch
from datasets import Dataset
from transformers import TrainerCallback

from clintune.config import RunConfig
from clintune.devices import detect_device, resolve_precision
from clintune.memory.measure import (
    SavedTensorMeter,
    gradient_bytes,
    model_state_bytes,
    optimizer_state_bytes,
    peak_rss_bytes,
)
from clintune.models.targets import count_parameters
from clintune.train.collator import BlockCollator
from clintune.train.methods import model_for_method
from clintune.train.trainer import ClintuneTrainer, StepOptions, trainer_config


class _MeteredTrainer(ClintuneTrainer):
    def __init__(self, *args, meter: SavedTensorMeter, **kwargs):
        super().__init__(*args, **kwargs)
        self.meter = meter

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        with self.meter:
            result = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        self.meter.held()
        return result


class _StateAfterStep(TrainerCallback):
    def __init__(self):
        self.measured: dict[str, int] = {}

    def on_optimizer_step(self, args, state, control, model=None, optimizer=None, **kwargs):
        # With the optimizer stepped inside backward every gradient is gone by now; it kept the largest it saw.
        in_backward = getattr(getattr(optimizer, "optimizer", optimizer), "largest_gradient", None)
        now = {**model_state_bytes(model), "optimizer": optimizer_state_bytes(optimizer),
               "gradients": gradient_bytes(model) if in_backward is None else in_backward}
        for key, value in now.items():
            self.measured[key] = max(self.measured.get(key, 0), value)


def measure_training(model_dir: str, config: RunConfig, batch_size: int, seq_len: int, steps: int = 2) -> dict:
    """Measured bytes by component for `steps` optimizer steps of `batch_size` x `seq_len` tokens."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    device, precision, config, tokenizer, model = _setup(model_dir, config, batch_size, seq_len, steps)
    trainable, total = count_parameters(model)
    vocab = model.config.get_text_config().vocab_size
    generator = torch.Generator().manual_seed(0)
    blocks = torch.randint(0, min(vocab, len(tokenizer)), (batch_size * steps, seq_len), generator=generator)
    meter = SavedTensorMeter(model)
    state = _StateAfterStep()
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    with tempfile.TemporaryDirectory(prefix="clintune-measure-") as out:
        trainer = _MeteredTrainer(model=model, args=trainer_config(config, "pretrain", Path(out), device, precision),
                                  train_dataset=Dataset.from_dict({"input_ids": blocks.tolist()}),
                                  processing_class=tokenizer, data_collator=BlockCollator(), callbacks=[state],
                                  meter=meter, step=StepOptions.from_config(config))
        trainer.remove_callback(PrinterCallback)
        trainer.remove_callback(ProgressCallback)
        trainer.train()
    return {"device": device, "precision": precision, "params_total": total, "params_trainable": trainable,
            "bytes": _measured({**state.measured, "activations": meter.peak}, device)}


def _setup(model_dir: str, config: RunConfig, batch_size: int, seq_len: int, steps: int):
    """(device, precision, the config for `steps` steps of `batch_size` x `seq_len`, tokenizer, the method's model)."""
    from clintune.models.load import load_tokenizer

    device = detect_device()
    precision = resolve_precision(config.train.precision, device)
    train = config.train.model_copy(update={"batch_size": batch_size, "grad_accum": 1, "max_steps": steps,
                                            "save_steps": 0, "logging_steps": steps, "max_length": seq_len})
    config = config.model_copy(update={"train": train})
    tokenizer = load_tokenizer(model_dir, config.model.trust_remote_code)
    return device, precision, config, tokenizer, model_for_method(model_dir, config, precision)


def _measured(parts: dict, device: str) -> dict:
    """The components, their total, and the process's (and CUDA's) peaks."""
    measured = {**parts, "total": sum(parts.values()), "peak_rss": peak_rss_bytes()}
    if device == "cuda":
        measured["cuda_max_allocated"] = torch.cuda.max_memory_allocated()
    return measured


def measure_preference(model_dir: str, config: RunConfig, stage: str, batch_size: int, seq_len: int,
                       steps: int = 2) -> dict:
    """Measured bytes by component for `steps` DPO or KTO steps of TRL's trainer on the method's model (a fresh
    adapter stands in for the SFT one; TRL copies it as the reference). Each row is a prompt and answers of filler
    tokens that fill `seq_len` (the length TRL's tokens came to is reported as `seq_len`)."""
    from peft import PeftModel
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    from clintune.train.preference import TRAINERS, dpo_config, kto_config

    device, precision, config, tokenizer, model = _setup(model_dir, config, batch_size, seq_len, steps)
    if not isinstance(model, PeftModel):
        from clintune.errors import ClintuneError

        raise ClintuneError(f"stage {stage} trains an adapter", fix="measure with --method lora, qlora or dora")
    rows = batch_size * steps
    prompt, answer = _filler(tokenizer, seq_len // 2), _filler(tokenizer, seq_len - seq_len // 2 - 2)
    if stage == "dpo":
        rejected = _filler(tokenizer, seq_len - seq_len // 2 - 2, " a")
        data = Dataset.from_list([{"prompt": prompt, "chosen": answer, "rejected": rejected}] * rows)
    else:
        data = Dataset.from_list([{"prompt": prompt, "completion": answer, "label": i % 2 == 0} for i in range(rows)])
    state = _StateAfterStep()
    meter = SavedTensorMeter(model)

    class Metered(TRAINERS[stage]):  # the trainer `clintune train` runs
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            with meter:
                result = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            meter.held()
            return result

    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    with tempfile.TemporaryDirectory(prefix="clintune-measure-") as out:
        arguments = (dpo_config if stage == "dpo" else kto_config)(config, Path(out), device, precision)
        trainer = Metered(model=model, args=arguments, train_dataset=data, processing_class=tokenizer,
                          callbacks=[state])
        trainer.remove_callback(PrinterCallback)
        trainer.remove_callback(ProgressCallback)
        first = trainer.train_dataset[0]
        answers = ("chosen_ids", "rejected_ids") if stage == "dpo" else ("completion_ids",)
        length = len(first["prompt_ids"]) + max(len(first[key]) for key in answers)
        trainer.train()
    parts = {**state.measured, "activations": meter.peak}
    reference = sum(p.numel() * p.element_size() for name, p in model.named_parameters() if ".ref." in name)
    parts["weights"] -= reference  # the reference adapter: frozen, but the plan counts it with the adapters
    parts["adapters"] += reference
    trainable, total = count_parameters(model)
    return {"device": device, "precision": precision, "params_total": total, "params_trainable": trainable,
            "stage": stage, "seq_len": length, "bytes": _measured(parts, device)}


def _filler(tokenizer, tokens: int, word: str = " the") -> str:
    """Text of about `tokens` tokens (a common word repeated)."""
    per_word = max(1, len(tokenizer(word * 8, add_special_tokens=False)["input_ids"]) // 8)
    return (word * max(1, tokens // per_word)).strip()
