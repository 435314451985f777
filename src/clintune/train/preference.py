"""Stages `dpo` and `kto` (after `sft`): TRL's DPOTrainer on pairs, TRL's KTOTrainer on single answers labelled good
or bad, the SFT model as the reference of both.

preference data (RUN/data/pairs.jsonl for dpo, RUN/data/kto.jsonl for kto: from `preference.pairs`, a user's file
checked and scanned by the data layer, or made once from the SFT model and kept, so a resumed run trains on the same
rows) -> the trainer, every default that matters set in `dpo_config` / `kto_config` -> a check that TRL tokenized each
row as clintune's SFT did (the exact inference prompt, then the answer and the EOS) -> train.

KTO needs no pairs, so answers a judge or the gold-answer check scored can be used as they are (`clintune pairs
--kto`). Its loss compares each answer's reward with an estimate of the KL divergence between the policy and the
reference, taken from mismatched prompt/answer pairs inside each batch: that is why a batch needs two rows or more
and why the rows are read in order (shuffled once, seeded, before the trainer sees them).

Under autocast both trainers train with PEFT's cast of each adapter's input switched off, as clintune's SFT trainer
does: TRL leaves it on, and each adapted linear then keeps its own 16-bit copy of its input for backward (17% more
saved activations on SmolLM2, docs/memory.md).

The reference: the model arrives as the SFT stage left it, a PEFT model whose adapter holds the SFT weights. TRL adds
a frozen copy of that adapter, named "ref", and computes the reference log-probabilities with it active, so the
reference is exactly the SFT model and the only second copy is the adapter's (a few MB), never the base's. The "ref"
copy is not saved with the result.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path

from datasets import Dataset
from trl import DPOConfig, DPOTrainer, KTOConfig, KTOTrainer

from clintune.config import RunConfig
from clintune.data.preference import PreferenceData, Renderers, load_preference_file
from clintune.devices import is_main_process
from clintune.errors import ClintuneError
from clintune.prompts.templates import encode_prompt, render_prompt
from clintune.runs import write_json, write_jsonl
from clintune.train.trainer import AdapterInputsUncast

# (model, tokenizer, training rows, generation cache file) -> (DPO pairs, KTO rows), each row with its prompt rendered;
# given by the API layer, which owns the scoring (evaluate/pairs.py), so training never imports evaluation.
MakePairs = Callable[[object, object, list[dict], Path], tuple[list[dict], list[dict]]]
REFERENCE = ("the SFT model: the SFT adapter's frozen copy (TRL's 'ref' adapter) on the same base weights, active "
             "only for the reference log-probabilities")
KEPT_AS = {"dpo": "pairs.jsonl", "kto": "kto.jsonl"}


def preference_data(stage: str, config: RunConfig, model, tokenizer, rows: list[dict], run_dir: Path,
                    make_pairs: MakePairs | None, say: Callable[[str], None]) -> Dataset:
    """What stage `stage` ('dpo' or 'kto') trains on, kept in RUN/data (a resumed run reads it back) and described in
    the data card."""
    kept = run_dir / "data" / KEPT_AS[stage]
    renderers = prompt_renderers(tokenizer, config)
    if kept.is_file():
        data = load_preference_file(kept, stage, renderers, config.data.allow_phi or "checked when first made")
    elif config.preference.pairs:
        data = load_preference_file(config.preference.pairs, stage, renderers, config.data.allow_phi)
    else:
        if make_pairs is None:
            raise ClintuneError(f"stage {stage} needs preference data: none was given and none can be made here",
                                fix="set preference.pairs to a file from `clintune pairs`, or train through "
                                "`clintune train`")
        count = min(len(rows), config.preference.questions or len(rows))
        say(f"stage {stage}: scoring {config.preference.samples} sampled answers to each of {count} training "
            "questions")
        pairs, labelled = make_pairs(model, tokenizer, rows[:config.preference.questions],
                                     run_dir / "data" / "pairs-cache.jsonl")
        made = pairs if stage == "dpo" else labelled
        if not made or (stage == "kto" and len({row["label"] for row in made}) < 2):
            raise ClintuneError("no sampled answer was ungrounded or wrong, so there is nothing to prefer against",
                                fix="raise preference.samples or preference.temperature")
        data = PreferenceData(made, "made from the SFT model's sampled answers", "standard",
                              {"findings": 0, "note": "made from the training data, which was scanned"})
    if not kept.is_file() and is_main_process():  # a resumed run found it there; under torchrun rank 0 writes
        write_jsonl(kept, data.rows)
        _describe_in_data_card(run_dir, stage, data)
    return _fitting(stage, data.rows, tokenizer, config, say)


def prompt_renderers(tokenizer, config: RunConfig) -> Renderers:
    def messages(turns: list[dict]) -> str:
        if not getattr(tokenizer, "chat_template", None):
            raise ClintuneError("conversational preference rows need the model's chat template, and it has none",
                                fix="write the rows with note and question, or prompt as text")
        return tokenizer.apply_chat_template(turns, tokenize=False, add_generation_prompt=True)

    return Renderers(lambda note, question: render_prompt(tokenizer, note, question, config.prompt.template,
                                                          config.prompt.chat), messages)


def _describe_in_data_card(run_dir: Path, stage: str, data: PreferenceData) -> None:
    path = run_dir / "data" / "data_card.json"
    card = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    write_json(path, {**card, "preference": {"stage": stage, "kept_as": KEPT_AS[stage], **data.card()}})


def _fitting(stage: str, rows: list[dict], tokenizer, config: RunConfig, say: Callable[[str], None]) -> Dataset:
    answers = ("chosen", "rejected") if stage == "dpo" else ("completion",)
    fitting = [r for r in rows if _longest(tokenizer, r, answers, config.prompt.chat) <= config.train.max_length]
    if len(fitting) < len(rows):
        say(f"stage {stage}: {len(rows) - len(fitting)} of {len(rows)} rows are longer than train.max_length="
            f"{config.train.max_length} and are left out (a preference stage never cuts an answer)")
    if not fitting:
        raise ClintuneError(f"every stage {stage} row is longer than train.max_length", fix="raise train.max_length")
    columns = ["prompt", *answers] + (["label"] if stage == "kto" else [])
    fitting = [{key: row[key] for key in columns} for row in fitting]
    if stage == "kto":  # KTO reads its rows in order (its KL term pairs neighbours): mix the questions first
        random.Random(config.preference.seed).shuffle(fitting)
        labels = {row["label"] for row in fitting}
        if len(labels) < 2:
            raise ClintuneError(f"stage kto needs good and bad answers; every row is labelled {labels.pop()}",
                                fix="add rows with the other label")
    return Dataset.from_list(fitting)


def _longest(tokenizer, row: dict, answers: tuple[str, ...], chat: bool) -> int:
    prompt = len(encode_prompt(tokenizer, row["prompt"], chat))
    return prompt + 1 + max(len(tokenizer(row[side], add_special_tokens=False)["input_ids"]) for side in answers)


class ClintuneDPOTrainer(AdapterInputsUncast, DPOTrainer):
    pass


class ClintuneKTOTrainer(AdapterInputsUncast, KTOTrainer):
    pass


TRAINERS = {"dpo": ClintuneDPOTrainer, "kto": ClintuneKTOTrainer}


def preference_trainer(stage: str, model, tokenizer, rows: Dataset, config: RunConfig, args, callbacks: Sequence):
    """TRL's DPOTrainer or KTOTrainer on the SFT model, checked to train on exactly the sequences SFT did."""
    if not hasattr(model, "peft_config"):
        raise ClintuneError(f"stage {stage} needs the SFT adapter", fix="train with train.method lora, qlora or dora")
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    answers = ("chosen", "rejected") if stage == "dpo" else ("completion",)
    trainer = TRAINERS[stage](model=model, args=args, train_dataset=rows, processing_class=tokenizer,
                            callbacks=list(callbacks))
    trainer.remove_callback(PrinterCallback)  # the Rich bar, train.log and metrics.jsonl report instead
    trainer.remove_callback(ProgressCallback)
    check_tokenized_as_sft(trainer.train_dataset, rows, tokenizer, config, answers)
    return trainer


def dpo_config(config: RunConfig, output_dir: Path, device: str, precision: str) -> DPOConfig:
    """Every DPOConfig default that matters, explicitly."""
    return DPOConfig(**trainer_arguments(config, output_dir, device, precision),
                     loss_type=[config.preference.loss_type or "sigmoid"],
                     truncation_mode="keep_start",  # never used: check_tokenized_as_sft refuses a pair over max_length
                     precompute_ref_log_probs=False)  # the reference runs beside the policy, step by step


def kto_config(config: RunConfig, output_dir: Path, device: str, precision: str) -> KTOConfig:
    """Every KTOConfig default that matters, explicitly."""
    preference = config.preference
    return KTOConfig(**trainer_arguments(config, output_dir, device, precision),
                     loss_type=preference.loss_type or "kto",
                     desirable_weight=preference.desirable_weight,
                     undesirable_weight=preference.undesirable_weight,
                     train_sampling_strategy="sequential",  # the KL estimate pairs each row with its neighbour
                     precompute_ref_log_probs=False)


def trainer_arguments(config: RunConfig, output_dir: Path, device: str, precision: str) -> dict:
    """What DPOConfig and KTOConfig share, every default that matters set: the preference section's beta, learning
    rate and epochs, the train section's batch, schedule, optimizer, precision and checkpointing."""
    train, preference = config.train, config.preference
    return dict(
        output_dir=str(output_dir),
        beta=preference.beta,
        learning_rate=preference.lr,
        num_train_epochs=preference.epochs,
        max_steps=train.max_steps,
        max_length=train.max_length,
        per_device_train_batch_size=train.batch_size,
        gradient_accumulation_steps=train.grad_accum,
        lr_scheduler_type=train.scheduler,
        warmup_steps=train.warmup_ratio,
        weight_decay=train.weight_decay,
        max_grad_norm=train.max_grad_norm,
        optim=train.optimizer,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=device == "cpu",
        sync_ref_model=False,
        disable_dropout=True,
        activation_checkpointing=train.gradient_checkpointing,
        gradient_checkpointing=None,
        logging_steps=train.logging_steps,
        logging_first_step=True,
        save_strategy="steps" if train.save_steps else "no",
        save_steps=train.save_steps or 500,
        save_total_limit=train.keep_checkpoints,
        report_to="none",
        disable_tqdm=True,
        seed=train.seed,
        data_seed=train.seed,
        dataloader_num_workers=0,
        dataset_num_proc=None,
    )


def check_tokenized_as_sft(tokenized: Dataset, rows: Dataset, tokenizer, config: RunConfig,
                           answers: tuple[str, ...]) -> None:
    """TRL tokenizes prompt and prompt + answer itself; refuse to train when that differs from the SFT stage's
    sequences (the inference prompt, token for token, then the answer's tokens and the EOS) or would be cut."""
    chat, max_length = config.prompt.chat, config.train.max_length
    if len(tokenized) != len(rows):
        raise ClintuneError(f"TRL kept {len(tokenized)} of {len(rows)} rows", fix="raise train.max_length")
    for index, (row, given) in enumerate(zip(tokenized, rows, strict=True)):
        prompt = encode_prompt(tokenizer, given["prompt"], chat)
        if row["prompt_ids"] != prompt:
            raise ClintuneError(f"row {index}: TRL's tokens for the prompt differ from the inference prompt's",
                                fix="report this with the model name; the SFT stage's model is kept in stages/sft")
        for side in answers:
            answer = tokenizer(given[side], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
            if row[f"{side}_ids"] != answer:
                raise ClintuneError(f"row {index}: TRL's tokens for the {side} answer differ from the SFT stage's",
                                    fix="report this with the model name")
        length = len(prompt) + max(len(row[f"{side}_ids"]) for side in answers)
        if length > max_length:
            raise ClintuneError(f"row {index} is {length} tokens, over train.max_length={max_length}; TRL would cut "
                                "its answers", fix="raise train.max_length")
