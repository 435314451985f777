"""The one clintune config: a pydantic model, loaded from YAML plus `key=value` overrides, validated at the door.

An unknown key is an error that names the closest valid key, so a typo can never be silently ignored (the course's
`padding_sight` typo is the example we design against).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from clintune.errors import ClintuneError


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelSection(Section):
    name: str = Field("smollm2-135m-instruct", description="cached short name, hub id or local folder")
    trust_remote_code: bool = False


# The generator's kinds of note (data/generate.py NOTE_KINDS; a test keeps the two the same).
NoteKind = Literal["discharge summary", "operative note", "clinic note", "diagnostic report"]


class DataSection(Section):
    path: str | None = Field(None, description="CSV, JSONL, JSON, Parquet, save_to_disk folder, .txt notes or hub "
                             "id; null = the built-in synthetic generator")
    columns: str | None = Field(None, description="column mapping canonical=source,... or a preset: alpaca, messages")
    strict: bool = Field(False, description="refuse a file with malformed rows, empty or repeated notes; else "
                         "malformed rows are skipped and notes-only data keeps one copy of each note, all named")
    clean_export: bool = Field(False, description="undo an export's ',HEADING:,' commas and HTML entities")
    synthetic_rows: int = Field(600, ge=8, description="rows the generator makes when path is null")
    note_kinds: list[NoteKind] | None = Field(None, min_length=1, description="kinds of note the generator writes "
                                              "when path is null; null = all four")
    reject_notes_over: int = Field(16_000, ge=1, description="validation fails on notes longer than this")
    max_note_chars: int | None = Field(None, ge=1, description="drop notes longer than this (the course kept < 1500)")
    max_tokens: int | None = Field(None, ge=8, description="drop examples (prompt + answer + EOS) longer than this")
    sample: int | None = Field(None, ge=1, description="keep this many rows, stratified by task")
    test_size: int | float = Field(12, ge=0, description="int: questions per task held out; float: fraction per task")
    val_size: int | float = Field(0, ge=0, description="like test_size, for a validation split")
    seed: int = 0
    allow_phi: str | None = Field(None, description="train despite identifier findings; the reason is recorded")

    @field_validator("test_size", "val_size")
    @classmethod
    def _fraction_below_one(cls, value: int | float) -> int | float:
        if isinstance(value, float) and value >= 1:
            raise ValueError("a float size is a fraction and must be below 1; use an int for a count per task")
        return value


class PromptSection(Section):
    template: str = Field("asclepius", description="asclepius, phi2, alpaca, chat, or a .txt file with {note} and "
                          "{question}")
    chat: bool = Field(True, description="put the template in the user turn of the model's chat template")


class LoraSection(Section):
    r: int = Field(16, ge=1)
    alpha: int = Field(32, ge=1)
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="0 by default: on CPU dropout costs ~40% of step time")
    targets: str | list[str] = Field("all-linear", description="'all-linear' or module names such as q_proj,v_proj")
    top_layers: int | None = Field(
        None, ge=1, description="adapt only the last N decoder layers (backward stops there); null = every layer"
    )


class QuantSection(Section):
    """The 4-bit base of QLoRA (bitsandbytes); used only when train.method is qlora."""

    type: Literal["nf4", "fp4"] = "nf4"
    double_quant: bool = Field(False, description="quantise the quantisation constants too (~0.4 bit/param saved)")
    compute_dtype: Literal["auto", "bf16", "fp16", "fp32"] = Field(
        "auto", description="dtype of the de-quantised matmuls; auto = bf16 where the device has it, else fp16/fp32")


class TrainSection(Section):
    method: Literal["full", "lora", "qlora", "dora"] = Field(
        "lora", description="full fine-tuning, LoRA, QLoRA (LoRA on a 4-bit base; see quant) or DoRA")
    epochs: float = Field(1.0, gt=0)
    max_steps: int = Field(-1, description="stop after this many optimizer steps; -1 runs the epochs")
    batch_size: int = Field(2, ge=1, description="per device; batch 2 keeps the demo's CPU memory under 4 GB")
    grad_accum: int = Field(4, ge=1)
    lr: float = Field(1e-3, gt=0)
    scheduler: Literal["cosine", "linear", "constant", "constant_with_warmup"] = "cosine"
    warmup_ratio: float = Field(0.03, ge=0, lt=1)
    weight_decay: float = Field(0.0, ge=0)
    max_length: int = Field(512, ge=16, description="longer examples are refused, never silently truncated")
    precision: Literal["auto", "bf16", "fp16", "fp32"] = Field(
        "auto", description="compute precision (autocast); auto = bf16 where the device has it (CPUs with "
        "AVX512-BF16/AMX too), fp16 on GPUs without bf16 (T4), else fp32")
    weights_dtype: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        "auto", description="dtype the weights are held in; auto = a frozen base (lora, dora, and what qlora does "
        "not quantise) in the compute precision, full fine-tuning's weights in fp32 (master weights); fp32 = every "
        "base in fp32; bf16 with full = pure-bf16 training. Adapters are always fp32")
    loss: Literal["auto", "chunked", "fused", "plain"] = Field(
        "auto", description="auto = liger-kernel's fused linear cross-entropy on CUDA when it is installed, else "
        "chunked; chunked = the vocabulary head and its fp32 upcast over loss_chunk_size positions at a time, "
        "recomputed in backward; plain = all trained positions' fp32 logits at once")
    loss_chunk_size: int = Field(256, ge=16, description="positions per chunk of the chunked loss (its working set "
                                 "is chunk x vocabulary x 12 bytes: 0.37 GiB for Llama-3's 128k vocabulary)")
    gradient_checkpointing: bool = False
    activation_offloading: bool = Field(False, description="keep what autograd saves for backward in CPU memory "
                                        "(CUDA); parameters and small tensors stay on the GPU")
    optimizer_in_backward: bool = Field(False, description="step each parameter's optimizer as soon as its "
                                        "gradient is ready and free the gradient (needs grad_accum=1, "
                                        "max_grad_norm=0, one process, no fp16)")
    packing: bool = Field(False, description="padding-free batches: examples concatenated, position ids restart, "
                          "attention never crosses examples; off = left-padded, length-grouped batches")
    optimizer: Literal["adamw_torch", "adamw_torch_fused", "paged_adamw_32bit", "paged_adamw_8bit", "adamw_8bit",
                       "sgd"] = "adamw_torch"
    max_grad_norm: float = Field(1.0, ge=0)
    save_steps: int = Field(50, ge=0, description="checkpoint every N optimizer steps (0 = only the final save)")
    keep_checkpoints: int = Field(2, ge=2, description="complete checkpoints kept per stage (at least 2, so a crash "
                                  "while one is written leaves another)")
    logging_steps: int = Field(1, ge=1)
    seed: int = 0


class PretrainSection(Section):
    """Stage 1 (`pretrain` in `stages`): causal LM on the notes, [bos] note [eos] packed into fixed blocks."""

    epochs: float = Field(1.0, gt=0)
    block_size: int | None = Field(None, ge=16, description="tokens per block; null = train.max_length")
    lr: float | None = Field(None, gt=0, description="null = train.lr")


class DistributedSection(Section):
    """Data parallel by default when nproc > 1; FSDP or DeepSpeed ZeRO through accelerate when asked."""

    nproc: int = Field(1, ge=1, description="processes to launch (torchrun); also `clintune train --nproc N`")
    fsdp: Literal["off", "full_shard", "shard_grad_op"] = Field("off", description="FSDP2 sharding (accelerate)")
    fsdp_wrap: str | None = Field(None, description="decoder layer class to wrap; null = the model's own choice")
    deepspeed_zero: Literal[0, 1, 2, 3] = Field(0, description="0 = off; 1-3 = ZeRO stage (needs deepspeed installed)")


class GenerationSection(Section):
    max_new_tokens: int = Field(48, ge=1)
    batch_size: int = Field(16, ge=1)


class PreferenceSection(Section):
    """Stage 3 after `sft`: `dpo` on pairs (TRL's DPOTrainer) or `kto` on answers labelled good or bad (TRL's
    KTOTrainer). The data comes from `pairs` (a file: `clintune pairs`'s, or a user's in TRL's formats or with note
    and question) or is made after the sft stage the way `clintune pairs` makes it: `samples` answers to each of the
    first `questions` training questions, scored against the gold answer and the note."""

    pairs: str | None = Field(None, description="a preference file (dpo: prompt/chosen/rejected; kto: "
                              "prompt/completion/label); null = make it from the SFT model")
    questions: int | None = Field(64, ge=1, description="training questions to make pairs from; null = all")
    samples: int = Field(4, ge=1, le=64, description="answers sampled per question")
    temperature: float = Field(1.0, gt=0, le=2.0)
    max_new_tokens: int = Field(96, ge=1)
    seed: int = 0
    beta: float = Field(0.1, gt=0, description="how far the policy may move from the reference (DPO's and KTO's beta)")
    loss_type: Literal["sigmoid", "ipo", "hinge", "robust", "kto", "apo_zero_unpaired"] | None = Field(
        None, description="null = sigmoid (the DPO paper's) for dpo, kto (the KTO paper's) for kto")
    desirable_weight: float = Field(1.0, gt=0, description="kto: weight of the good answers' loss")
    undesirable_weight: float = Field(1.0, gt=0, description="kto: weight of the bad answers' loss")
    lr: float = Field(5e-5, gt=0, description="the preference stage's own learning rate, for the LoRA adapter it "
                      "trains (TRL's default, 1e-6, is for all weights)")
    epochs: float = Field(1.0, gt=0)


STAGE_ORDER = ["pretrain", "sft", "dpo", "kto"]
Stage = Literal["pretrain", "sft", "dpo", "kto"]
PREFERENCE_STAGES = ("dpo", "kto")
LOSSES = {"dpo": ("sigmoid", "ipo", "hinge", "robust"), "kto": ("kto", "apo_zero_unpaired")}


class RunConfig(Section):
    name: str = "demo"
    stages: list[Stage] = Field(["sft"], description="run in this order; sft starts from pretrain's weights")
    model: ModelSection = ModelSection()
    data: DataSection = DataSection()
    prompt: PromptSection = PromptSection()
    lora: LoraSection = LoraSection()
    quant: QuantSection = QuantSection()
    train: TrainSection = TrainSection()
    pretrain: PretrainSection = PretrainSection()
    preference: PreferenceSection = PreferenceSection()
    distributed: DistributedSection = DistributedSection()
    generation: GenerationSection = GenerationSection()

    @field_validator("stages")
    @classmethod
    def _stages_in_order(cls, stages: list[str]) -> list[str]:
        if not stages or len(set(stages)) != len(stages) or stages != sorted(stages, key=STAGE_ORDER.index):
            raise ValueError("stages must be each once, in the order pretrain, sft, then dpo or kto (e.g. [sft], "
                             "[pretrain, sft], [sft, dpo], [sft, kto])")
        preference = [stage for stage in stages if stage in PREFERENCE_STAGES]
        if len(preference) > 1:
            raise ValueError("one preference stage per run: dpo or kto")
        if preference and "sft" not in stages:
            raise ValueError(f"stage {preference[0]} starts from the sft stage's model: use stages [sft, "
                             f"{preference[0]}]")
        return stages

    @model_validator(mode="after")
    def _lean_options_hold_together(self) -> RunConfig:
        train, dist = self.train, self.distributed
        for stage in (s for s in self.stages if s in PREFERENCE_STAGES):
            if train.method == "full":
                raise ValueError(f"stage {stage} needs an adapter (train.method lora, qlora or dora): its reference "
                                 "model is the SFT adapter's frozen copy; full fine-tuning would need a second copy "
                                 "of the model")
            loss = self.preference.loss_type
            if loss is not None and loss not in LOSSES[stage]:
                raise ValueError(f"preference.loss_type={loss} is not a {stage} loss: use one of "
                                 f"{', '.join(LOSSES[stage])} (or null)")
            if stage == "kto" and train.batch_size < 2 and (loss or "kto") == "kto":
                raise ValueError("stage kto estimates its KL term from the other rows of a batch, so it needs "
                                 "train.batch_size 2 or more (or preference.loss_type=apo_zero_unpaired)")
        if train.weights_dtype == "fp16" and train.method == "full":
            raise ValueError("train.weights_dtype=fp16 with train.method=full: fp16 weights cannot be loss-scaled; "
                             "use weights_dtype bf16 (pure bf16) or fp32 (master weights)")
        if train.optimizer_in_backward:
            conflicts = [(train.grad_accum != 1, "train.grad_accum=1"), (train.max_grad_norm != 0,
                         "train.max_grad_norm=0"), (train.precision == "fp16", "train.precision bf16 or fp32"),
                         (dist.nproc != 1 or dist.fsdp != "off" or dist.deepspeed_zero != 0, "one process")]
            needed = [fix for broken, fix in conflicts if broken]
            if needed:
                raise ValueError("train.optimizer_in_backward steps each parameter during backward, so it needs "
                                 + ", ".join(needed))
        return self


def _valid_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        dotted = f"{prefix}{name}"
        keys.append(dotted)
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys.extend(_valid_keys(annotation, dotted + "."))
    return keys


# Users arrive from transformers/PEFT/TRL and type those names; point them at ours.
HF_NAMES = {
    "learning_rate": "train.lr",
    "num_train_epochs": "train.epochs",
    "per_device_train_batch_size": "train.batch_size",
    "gradient_accumulation_steps": "train.grad_accum",
    "lr_scheduler_type": "train.scheduler",
    "max_seq_length": "train.max_length",
    "lora_alpha": "lora.alpha",
    "lora_dropout": "lora.dropout",
    "target_modules": "lora.targets",
    "model_name_or_path": "model.name",
    "bf16": "train.precision",
    "fp16": "train.precision",
    "optim": "train.optimizer",
    "gradient_checkpointing": "train.gradient_checkpointing",
    "save_total_limit": "train.keep_checkpoints",
    "block_size": "pretrain.block_size",
    "num_processes": "distributed.nproc",
    "nproc_per_node": "distributed.nproc",
}


def _closest_key(bad: str) -> str | None:
    *section, leaf = bad.split(".")
    if leaf in HF_NAMES:
        return HF_NAMES[leaf]
    valid = _valid_keys(RunConfig)
    # A near-miss of a leaf in the same section first ("train.learning_rat" -> train.lr via learning_rate), then of
    # any dotted key, then the right leaf under a wrong section.
    prefix = ".".join(section) + "." if section else ""
    siblings = {k[len(prefix):]: k for k in valid if k.startswith(prefix) and "." not in k[len(prefix):]}
    candidates = {**{name: HF_NAMES[name] for name in HF_NAMES}, **siblings}
    match = difflib.get_close_matches(leaf, list(candidates), n=1, cutoff=0.75)
    if match:
        return candidates[match[0]]
    match = difflib.get_close_matches(bad, valid, n=1, cutoff=0.5)
    if not match:
        match = [k for k in valid if k.rsplit(".", 1)[-1] == leaf][:1]
    return match[0] if match else None


def _explain(error: ValidationError, where: str) -> ClintuneError:
    first = error.errors()[0]
    key = ".".join(str(p) for p in first["loc"])
    if first["type"] == "extra_forbidden":
        hint = _closest_key(key)
        fix = f"did you mean '{hint}'?" if hint else "see `clintune config show` for the valid keys"
        return ClintuneError(f"unknown config key '{key}'", where=where, fix=fix)
    if not key:  # a rule across fields (RunConfig's model validator): its message says what and how
        return ClintuneError(first["msg"].removeprefix("Value error, "), where=where)
    return ClintuneError(f"bad value for '{key}': {first['msg']}", where=where, fix="correct it and run again")


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """Turn ['train.lr=1e-4', 'lora.r=8'] into a nested dict; values are parsed as YAML scalars."""
    nested: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ClintuneError(
                f"override '{pair}' is not key=value", fix="write it as section.key=value, e.g. lora.r=8"
            )
        key, raw = pair.split("=", 1)
        node = nested
        *parents, leaf = key.strip().split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(raw) if raw.strip() else ""
    return nested


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> RunConfig:
    """Build the validated config from an optional YAML file and `key=value` overrides."""
    data: dict[str, Any] = {}
    where = "defaults"
    if path is not None:
        path = Path(path)
        where = str(path)
        if not path.is_file():
            raise ClintuneError(f"config file not found: {path}", fix="give the path of a YAML recipe")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except UnicodeDecodeError as exc:
            raise ClintuneError(f"the config is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
                                f"{exc.start})", where=where, fix="save the recipe as UTF-8 text") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f"{path}:{mark.line + 1}" if mark else str(path)
            raise ClintuneError("the config is not valid YAML", where=at, fix="check indentation and colons") from None
        if not isinstance(data, dict):
            raise ClintuneError("the config must be a YAML mapping", where=where, fix="use key: value lines")
    if overrides:
        data = _merge(data, parse_overrides(overrides))
        where = f"{where} + overrides" if path else "overrides"
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc, where) from None


def with_overrides(config: RunConfig, overrides: list[str]) -> RunConfig:
    """A validated copy of `config` with `key=value` overrides on top."""
    try:
        return RunConfig.model_validate(_merge(config.model_dump(), parse_overrides(overrides)))
    except ValidationError as exc:
        raise _explain(exc, "overrides") from None


def data_section(**values: Any) -> DataSection:
    """The data options of a command line (`clintune data prepare`), validated like a recipe's `data:` section."""
    for key in ("test_size", "val_size"):
        value = values.get(key)
        if isinstance(value, float) and value >= 1 and value.is_integer():
            values[key] = int(value)  # --test-size 12 means 12 questions per task
    try:
        return DataSection.model_validate(values)
    except ValidationError as exc:
        raise _explain(exc, "command line") from None


def dump_config(config: RunConfig) -> str:
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
