"""`clintune train RECIPE`: one run, read top to bottom.

config -> run directory -> data (validation, identifier scan, split: the data layer's `prepare`) -> the model for the
method -> safety checks before step 1 (template round trip on every example, memory plan) -> each stage on the
trainer, checkpointed and resumable -> weights, metrics, loss curve, TensorBoard and model card in the run directory.

Under `torchrun` every rank runs this same function on the same data; only rank 0 writes files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from datasets import Dataset
from safetensors.torch import load_file
from transformers import TrainerCallback
from transformers.integrations import TensorBoardCallback

from clintune.config import PREFERENCE_STAGES, RunConfig, dump_config, load_config
from clintune.data.prepare import Prepared, load_for_training, prepare, write_prepared
from clintune.devices import detect_device, in_distributed_launch, is_main_process, resolve_precision
from clintune.errors import ClintuneError, write_failure
from clintune.memory.estimate import meta_model, model_config_from
from clintune.memory.plan import MemoryCheck, check_plan
from clintune.models.fetch import fetch_model
from clintune.models.load import load_tokenizer
from clintune.models.registry import KNOWN_MODELS
from clintune.models.targets import count_parameters
from clintune.prompts.preview import example_token_length
from clintune.runs import check_new_folder, new_run_dir, read_status, set_status, timestamped, write_json, write_text
from clintune.train.callbacks import CommitCheckpoints, MetricsLog, ProgressLog, RichProgress
from clintune.train.card import model_card
from clintune.train.collator import BlockCollator, LeftPaddingCollator, PaddingFreeCollator
from clintune.train.loss_plot import plot_stage_losses
from clintune.train.methods import describe, model_for_method
from clintune.train.preference import MakePairs, dpo_config, kto_config, preference_data, preference_trainer
from clintune.train.resume import checkpoint_step, discard_incomplete, drop_logged_after, last_complete_checkpoint
from clintune.train.stages import encode_sft, note_blocks
from clintune.train.trainer import ClintuneTrainer, StepOptions, trainer_config

Say = Callable[[str], None]


def run_training(config: RunConfig, out: Path | None = None, resume: bool = False, say: Say = print,
                 memory: MemoryCheck | None = None, callbacks: Sequence[TrainerCallback] = (),
                 make_pairs: MakePairs | None = None) -> Path:
    main = is_main_process()
    if not main:  # one voice: the other ranks do the same work in silence
        import datasets

        datasets.disable_progress_bars()
        say = _silent
    # What can be wrong with the inputs (--out, the model, its config, the data) is found before a run directory
    # exists, so a refused run leaves nothing behind.
    run_dir = open_run(config, out, resume) if resume else None  # resuming only reads the run
    if not resume and not in_distributed_launch():
        out = Path(out) if out is not None else timestamped(config.name)
        check_new_folder(out)
    inputs = _checked_inputs(config, say)
    run_dir = run_dir or open_run(config, out, resume)
    if main and not resume:
        write_text(run_dir / "config.yaml", dump_config(config))
    if main:
        set_status(run_dir, "running", command="train")
    try:
        say(f"device {inputs.device}, precision {inputs.precision}; run directory {run_dir}")
        if main:
            write_prepared(inputs.prepared, run_dir / "data")
        summary = train_stages(config, inputs.tokenizer, inputs.prepared.splits["train"], run_dir, inputs.device,
                               inputs.precision, resume, say, memory, callbacks, make_pairs).summary
    except BaseException as exc:
        if not main:
            raise
        problem = exc if isinstance(exc, ClintuneError) else _failed_write(exc, run_dir)
        _mark_stopped(config, run_dir, exc, problem)
        if problem is not None and problem is not exc:
            raise problem from None
        raise
    if main:
        set_status(run_dir, "finished", summary=summary)
    return run_dir


@dataclass
class _Inputs:
    tokenizer: object
    prepared: Prepared
    device: str
    precision: str


def _checked_inputs(config: RunConfig, say: Say) -> _Inputs:
    """The model fetched and its config checked, the data loaded, validated, filtered and split: nothing written."""
    name = config.model.name
    if name in KNOWN_MODELS and is_main_process():
        fetch_model(name, say=say)
    model_config_from(name, config.model.trust_remote_code)  # a broken config.json is refused here, by name
    tokenizer = load_tokenizer(name, trust_remote_code=config.model.trust_remote_code)
    device = detect_device()
    token_length = example_token_length(tokenizer, config.prompt.template, config.prompt.chat)
    prepared = prepare(load_for_training(config.data), config.data, token_length if config.data.max_tokens else None)
    return _Inputs(tokenizer, prepared, device, resolve_precision(config.train.precision, device))


def _failed_write(exc: BaseException, run_dir: Path) -> ClintuneError | None:
    """A checkpoint or the weights that could not be written (a full disk, a file size limit): the user's one line,
    with the way back."""
    found = write_failure(exc, str(run_dir))
    if found is None:
        return None
    return ClintuneError(found.what, where=found.where, fix=f"{found.fix}; then rerun the same command with --resume "
                         f"--out {run_dir} to continue from the last complete checkpoint")


def _mark_stopped(config: RunConfig, run_dir: Path, exc: BaseException, problem: ClintuneError | None) -> None:
    """run.json says the run failed or was interrupted, and why; what a failed save half-wrote is removed first (it
    cannot be resumed from, and on a full disk it holds the space run.json needs)."""
    for stage in config.stages:
        discard_incomplete(run_dir / "checkpoints" / stage)
    for partial in run_dir.glob("**/.*.partial"):  # weights saved beside their final name; atomic files' temporaries
        if partial.is_dir():
            shutil.rmtree(partial, ignore_errors=True)
        else:
            partial.unlink(missing_ok=True)
    interrupted = isinstance(exc, KeyboardInterrupt)
    reason = problem.one_line() if problem else "interrupted (Ctrl-C)" if interrupted else type(exc).__name__
    with contextlib.suppress(OSError):  # the disk may still be full: the error line still reaches the user
        set_status(run_dir, "interrupted" if interrupted else "failed", error=reason)


def train_stages(config: RunConfig, tokenizer, train_rows: Dataset, run_dir: Path, device: str, precision: str,
                 resume: bool = False, say: Say = print, memory: MemoryCheck | None = None,
                 callbacks: Sequence[TrainerCallback] = (), make_pairs: MakePairs | None = None) -> TrainOutcome:
    """Train every configured stage in order, each resumable from its last committed checkpoint. `callbacks`
    (transformers TrainerCallbacks) join every stage's trainer after clintune's own, so a checkpoint is committed
    before they hear of it."""
    datasets = stage_datasets(tokenizer, train_rows, config)
    # Planned from the config before any weight is loaded, so a run that cannot fit stops at once.
    base = meta_model(model_config_from(config.model.name, config.model.trust_remote_code))
    check_plan(base, config, precision, device, memory or MemoryCheck(), say)
    model = model_for_method(config.model.name, config, precision)
    trainable, total = count_parameters(model)
    say(f"{describe(model, config)}: {trainable:,} trainable of {total:,} parameters")

    done = set(read_status(run_dir).get("stages_done", []))
    steps, history, seconds = {}, [], 0.0
    for index, stage in enumerate(config.stages):
        last = index == len(config.stages) - 1
        out_dir = final_weights_dir(run_dir, config) if last else run_dir / "stages" / stage
        if stage in done:
            say(f"stage {stage}: finished earlier in this run, continuing from {out_dir}")
            if not last:
                model = _load_stage_weights(model, out_dir, config, precision)
            continue
        checkpoints = run_dir / "checkpoints" / stage
        start_from = None
        if resume:
            if is_main_process():
                for folder in discard_incomplete(checkpoints):
                    say(f"discarded incomplete checkpoint {folder}")
            start_from = last_complete_checkpoint(checkpoints)
            if start_from:
                say(f"stage {stage}: resuming from {start_from}")
                if is_main_process():
                    drop_logged_after(run_dir / "metrics.jsonl", stage, checkpoint_step(start_from))
        if stage in PREFERENCE_STAGES:
            trainer = _preference_trainer(stage, model, tokenizer, train_rows, config, run_dir, device, precision,
                                          callbacks, make_pairs, say)
        else:
            trainer = _trainer_for(stage, model, tokenizer, datasets[stage], config, run_dir, device, precision,
                                   callbacks)
            say(f"stage {stage}: loss {trainer.loss_kind}" + _step_notes(config, device))
        clock = time.perf_counter()
        try:
            trainer.train(resume_from_checkpoint=str(start_from) if start_from else None)
        finally:
            for callback in trainer.callback_handler.callbacks:
                if isinstance(callback, RichProgress):
                    callback.on_train_end(None, trainer.state, None)
        seconds += time.perf_counter() - clock
        # accelerate wrapped the forward in autocast for training and never wraps a model twice, so a later stage
        # trains through this same wrapper (without it, fp32 adapters would meet 16-bit activations); after the last
        # stage the model is handed back without it.
        model = trainer.accelerator.unwrap_model(trainer.model, keep_fp32_wrapper=not last)
        # Saved beside its final name and renamed when complete, so a crash never leaves half-written weights.
        partial = out_dir.with_name(f".{out_dir.name}.partial")
        if is_main_process():
            shutil.rmtree(partial, ignore_errors=True)
        trainer.save_model(str(partial))  # safetensors, HF/PEFT format; gathers FSDP/ZeRO shards; rank 0 writes
        steps[stage] = trainer.state.global_step
        history += [{"stage": stage, **h} for h in trainer.state.log_history]
        if last:
            _compare_ranks(model, run_dir)
        if is_main_process():
            # The trainer pickles its arguments beside the weights; config.yaml already says all of it, in YAML.
            (partial / "training_args.bin").unlink(missing_ok=True)
            shutil.rmtree(partial / "ref", ignore_errors=True)  # DPO's frozen reference adapter: not the result
            partial.rename(out_dir)
            done.add(stage)
            set_status(run_dir, "running", stages_done=[s for s in config.stages if s in done])
    saved = final_weights_dir(run_dir, config)
    losses = [h["loss"] for h in history if "loss" in h]
    summary = {"steps": steps, "seconds": round(seconds, 1), "trainable_params": trainable, "total_params": total,
               "final_loss": round(losses[-1], 4) if losses else None, "precision": precision, "device": device,
               "weights": saved.name}
    if is_main_process():
        _write_outputs(config, run_dir, saved, summary)
    return TrainOutcome(saved, steps, seconds, history, trainable, total, summary)


def _silent(_: str) -> None:
    return None


@dataclass
class TrainOutcome:
    saved: Path  # adapter/ or model/ in the run directory
    steps: dict[str, int]
    seconds: float
    log_history: list[dict]
    trainable: int
    total: int
    summary: dict


def final_weights_dir(run_dir: Path, config: RunConfig) -> Path:
    return run_dir / ("model" if config.train.method == "full" else "adapter")


def stage_datasets(tokenizer, train_rows: Dataset, config: RunConfig) -> dict[str, Dataset]:
    """Everything each stage trains on, built (and checked) before the first step of the first stage."""
    built = {}
    for stage in config.stages:
        if stage in PREFERENCE_STAGES:
            continue  # its data may come from the SFT stage's model, after that stage
        if stage == "pretrain":
            block = config.pretrain.block_size or config.train.max_length
            built[stage] = note_blocks(tokenizer, list(train_rows["note"]), block)
        else:
            if "question" not in train_rows.column_names:
                raise ClintuneError("stage sft needs questions and answers, but the data holds notes only",
                                    fix="set stages=[pretrain] for notes-only data, or give question/answer data")
            built[stage] = encode_sft(tokenizer, train_rows, config)
    return built


def _load_stage_weights(model, folder: Path, config: RunConfig, precision: str):
    """Continue from a finished earlier stage of this run (when resuming past it)."""
    if config.train.method == "full":
        return model_for_method(str(folder), config, precision)
    from peft import set_peft_model_state_dict

    set_peft_model_state_dict(model, load_file(folder / "adapter_model.safetensors"))
    return model


def _weights_digest(model) -> str:
    digest = hashlib.sha256()
    for name, param in sorted(model.named_parameters()):
        if param.requires_grad:
            digest.update(name.encode())
            digest.update(param.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()


def _compare_ranks(model, run_dir: Path) -> None:
    """After data-parallel training, every rank must hold the same weights; the check is recorded in run.json."""
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return
    digests: list[str | None] = [None] * torch.distributed.get_world_size()
    torch.distributed.all_gather_object(digests, _weights_digest(model))
    if is_main_process():
        set_status(run_dir, "running", ranks={"world_size": len(digests), "weights_identical": len(set(digests)) == 1,
                                              "digests": [d[:16] for d in digests]})


def _trainer_for(stage, model, tokenizer, data, config, run_dir, device, precision,
                 extra_callbacks: Sequence[TrainerCallback] = ()) -> ClintuneTrainer:
    collator = (BlockCollator() if stage == "pretrain"
                else PaddingFreeCollator() if config.train.packing
                else LeftPaddingCollator(tokenizer.pad_token_id))
    trainer = ClintuneTrainer(model=model, args=trainer_config(config, stage, run_dir / "checkpoints" / stage, device,
                                                               precision),
                              train_dataset=data, processing_class=tokenizer, data_collator=collator,
                              callbacks=_callbacks(stage, run_dir, extra_callbacks),
                              step=StepOptions.from_config(config))
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    return trainer


def _preference_trainer(stage, model, tokenizer, train_rows, config, run_dir, device, precision, callbacks, make_pairs,
                        say):
    data = preference_data(stage, config, model, tokenizer, train_rows.to_list(), run_dir, make_pairs, say)
    arguments = (dpo_config if stage == "dpo" else kto_config)(config, run_dir / "checkpoints" / stage, device,
                                                               precision)
    trainer = preference_trainer(stage, model, tokenizer, data, config, arguments,
                                 _callbacks(stage, run_dir, callbacks))
    what = "pairs" if stage == "dpo" else f"answers ({sum(data['label'])} good)"
    loss = config.preference.loss_type or ("sigmoid" if stage == "dpo" else "kto")
    say(f"stage {stage}: {len(data)} {what}, beta {config.preference.beta}, loss {loss}; "
        "reference: the SFT adapter's frozen copy")
    return trainer


def _callbacks(stage: str, run_dir: Path, extra: Sequence[TrainerCallback]) -> list[TrainerCallback]:
    callbacks = [CommitCheckpoints(), MetricsLog(run_dir / "metrics.jsonl", stage), ProgressLog(run_dir / "train.log",
                                                                                                stage),
                 RichProgress(stage)]
    if is_main_process():
        from torch.utils.tensorboard import SummaryWriter

        callbacks.append(TensorBoardCallback(SummaryWriter(log_dir=str(run_dir / "tensorboard" / stage))))
    return callbacks + list(extra)  # after CommitCheckpoints: a checkpoint they hear of is already committed


def _step_notes(config: RunConfig, device: str) -> str:
    train = config.train
    notes = [" (optimizer stepped inside backward)" if train.optimizer_in_backward else ""]
    if train.activation_offloading:
        notes.append("; activation offloading: nothing to offload, training runs in CPU memory" if device == "cpu"
                     else "; saved activations offloaded to CPU memory")
    return "".join(notes)


def _write_outputs(config: RunConfig, run_dir: Path, saved: Path, summary: dict) -> None:
    plot_stage_losses(run_dir / "metrics.jsonl", run_dir / "loss.png")
    data_card_path = run_dir / "data" / "data_card.json"
    data_card = json.loads(data_card_path.read_text()) if data_card_path.is_file() else {}
    card = model_card(config, summary, data_card)
    write_text(run_dir / "README.md", card)
    write_text(saved / "README.md", card)  # replaces PEFT's placeholder card
    write_json(run_dir / "train_summary.json", summary)


def open_run(config: RunConfig, out: Path | None, resume: bool) -> Path:
    """A new run directory, or with `resume` the run to continue (`out`, else the newest run of this name)."""
    if not resume:
        if in_distributed_launch():
            return Path(out)  # under torchrun the launcher made it; rank 0 fills it
        return new_run_dir(config.name, out)
    if out is None:
        candidates = sorted(Path("runs").glob(f"{config.name}-*")) if Path("runs").is_dir() else []
        if not candidates:
            raise ClintuneError(f"--resume found no earlier run named '{config.name}' under runs/",
                                fix="give the run directory with --out, or drop --resume to start a new run")
        out = candidates[-1]
    out = Path(out)
    saved = out / "config.yaml"
    if not saved.is_file():
        raise ClintuneError(f"{out} is not a clintune run directory (no config.yaml)", fix="give the run to resume")
    if saved.read_text(encoding="utf-8") != dump_config(config):
        earlier, now = load_config(saved).model_dump(), config.model_dump()
        key = _first_difference(earlier, now)
        raise ClintuneError(f"the config differs from the run being resumed at '{key}'", where=str(saved),
                            fix="resume with the run's own recipe and overrides, or start a new run")
    if read_status(out).get("status") == "finished":
        raise ClintuneError(f"run {out} already finished", fix="start a new run instead of --resume")
    return out


def _first_difference(a: dict, b: dict, prefix: str = "") -> str:
    for key in a:
        if isinstance(a[key], dict) and isinstance(b.get(key), dict):
            inner = _first_difference(a[key], b[key], f"{prefix}{key}.")
            if inner:
                return inner
        elif a[key] != b.get(key):
            return f"{prefix}{key}"
    return ""
