"""Stage `dpo` (after `sft`): TRL's DPOTrainer on preference pairs, with the SFT model as the reference.

pairs (RUN/data/pairs.jsonl: from `preference.pairs`, or made once from the SFT model and kept, so a resumed run
trains on the same ones) -> DPOTrainer, every default that matters set in `dpo_config` -> a check that TRL tokenized
each pair as clintune's SFT did (the exact inference prompt, then the answer and the EOS) -> train.

The reference: the model arrives as the SFT stage left it, a PEFT model whose adapter holds the SFT weights. TRL adds
a frozen copy of that adapter, named "ref", and computes the reference log-probabilities with it active, so the
reference is exactly the SFT model and the only second copy is the adapter's (a few MB), never the base's. The "ref"
copy is not saved with the result.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from datasets import Dataset
from trl import DPOConfig, DPOTrainer

from clintune.config import RunConfig
from clintune.errors import ClintuneError
from clintune.prompts.templates import encode_prompt
from clintune.runs import write_jsonl

# (model, tokenizer, training rows, generation cache file) -> pairs {"prompt", "chosen", "rejected", ...}; given by
# the API layer, which owns the scoring (evaluate/pairs.py), so training never imports evaluation.
MakePairs = Callable[[object, object, list[dict], Path], list[dict]]
REFERENCE = ("the SFT model: the SFT adapter's frozen copy (TRL's 'ref' adapter) on the same base weights, active "
             "only for the reference log-probabilities")


def preference_pairs(config: RunConfig, model, tokenizer, rows: list[dict], run_dir: Path,
                     make_pairs: MakePairs | None, say: Callable[[str], None]) -> Dataset:
    """The pairs DPO trains on, kept in RUN/data/pairs.jsonl (a resumed run reads them back)."""
    kept = run_dir / "data" / "pairs.jsonl"
    if kept.is_file():
        pairs = _read_pairs(kept)
    elif config.preference.pairs:
        pairs = _read_pairs(Path(config.preference.pairs))
    else:
        if make_pairs is None:
            raise ClintuneError("stage dpo needs pairs: none were given and none can be made here",
                                fix="set preference.pairs to a file from `clintune pairs`, or train through "
                                "`clintune train`")
        say(f"stage dpo: making pairs from {config.preference.samples} sampled answers to each of "
            f"{min(len(rows), config.preference.questions or len(rows))} training questions")
        pairs = make_pairs(model, tokenizer, rows[:config.preference.questions], run_dir / "data" / "pairs-cache.jsonl")
        if not pairs:
            raise ClintuneError("no sampled answer was ungrounded or wrong, so no preference pair could be made",
                                fix="raise preference.samples or preference.temperature")
    write_jsonl(kept, pairs)
    fitting = [p for p in pairs if _longest(tokenizer, p, config.prompt.chat) <= config.train.max_length]
    if len(fitting) < len(pairs):
        say(f"stage dpo: {len(pairs) - len(fitting)} of {len(pairs)} pairs are longer than train.max_length="
            f"{config.train.max_length} and are left out (DPO never cuts an answer)")
    if not fitting:
        raise ClintuneError("every preference pair is longer than train.max_length", fix="raise train.max_length")
    return Dataset.from_list([{"prompt": p["prompt"], "chosen": p["chosen"], "rejected": p["rejected"]}
                              for p in fitting])


def _longest(tokenizer, pair: dict, chat: bool) -> int:
    prompt = len(encode_prompt(tokenizer, pair["prompt"], chat))
    return prompt + 1 + max(len(tokenizer(pair[side], add_special_tokens=False)["input_ids"])
                            for side in ("chosen", "rejected"))


def _read_pairs(path: Path) -> list[dict]:
    if not path.is_file():
        raise ClintuneError("the preference pairs file does not exist", where=str(path),
                            fix="write it with `clintune pairs --run RUN --out FILE`")
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ClintuneError(f"invalid JSON ({exc.msg})", where=f"{path}:{number}", fix="fix that line") from None
        missing = [key for key in ("prompt", "chosen", "rejected") if not isinstance(row.get(key), str)]
        if missing:
            raise ClintuneError(f"a pair needs text fields prompt, chosen and rejected; {', '.join(missing)} missing",
                                where=f"{path}:{number}", fix="write rows as `clintune pairs` does")
        pairs.append(row)
    if not pairs:
        raise ClintuneError("the preference pairs file is empty", where=str(path), fix="make pairs first")
    return pairs


def dpo_trainer(model, tokenizer, pairs: Dataset, config: RunConfig, args: DPOConfig,
                callbacks: Sequence) -> DPOTrainer:
    """TRL's trainer on the SFT model, checked to train on exactly the sequences SFT did."""
    if not hasattr(model, "peft_config"):
        raise ClintuneError("stage dpo needs the SFT adapter", fix="train with train.method lora, qlora or dora")
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer = DPOTrainer(model=model, args=args, train_dataset=pairs, processing_class=tokenizer,
                         callbacks=list(callbacks))
    trainer.remove_callback(PrinterCallback)  # the Rich bar, train.log and metrics.jsonl report instead
    trainer.remove_callback(ProgressCallback)
    _check_tokenized_as_sft(trainer.train_dataset, pairs, tokenizer, config.prompt.chat, config.train.max_length)
    return trainer


def dpo_config(config: RunConfig, output_dir: Path, device: str, precision: str) -> DPOConfig:
    """Every DPOConfig default that matters, explicitly."""
    train, preference = config.train, config.preference
    return DPOConfig(
        output_dir=str(output_dir),
        beta=preference.beta,
        loss_type=[preference.loss_type],
        learning_rate=preference.lr,
        num_train_epochs=preference.epochs,
        max_steps=train.max_steps,
        max_length=train.max_length,  # checked below: no pair may be cut
        truncation_mode="keep_start",
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
        precompute_ref_log_probs=False,  # the reference runs beside the policy, step by step
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


def _check_tokenized_as_sft(tokenized: Dataset, pairs: Dataset, tokenizer, chat: bool, max_length: int) -> None:
    """TRL tokenizes prompt and prompt + answer itself; refuse to train when that differs from the SFT stage's
    sequences (the inference prompt, token for token, then the answer's tokens and the EOS)."""
    for index, (row, pair) in enumerate(zip(tokenized, pairs, strict=True)):
        prompt = encode_prompt(tokenizer, pair["prompt"], chat)
        if row["prompt_ids"] != prompt:
            raise ClintuneError(f"pair {index}: TRL's tokens for the prompt differ from the inference prompt's",
                                fix="report this with the model name; the SFT stage's model is kept in stages/sft")
        for side in ("chosen", "rejected"):
            answer = tokenizer(pair[side], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
            if row[f"{side}_ids"] != answer:
                raise ClintuneError(f"pair {index}: TRL's tokens for the {side} answer differ from the SFT stage's",
                                    fix="report this with the model name")
        length = len(prompt) + max(len(row["chosen_ids"]), len(row["rejected_ids"]))
        if length > max_length:
            raise ClintuneError(f"pair {index} is {length} tokens, over train.max_length={max_length}; DPO would cut "
                                "its answers", fix="raise train.max_length")
