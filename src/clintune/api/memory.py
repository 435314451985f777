"""The memory plan from Python: what a training step needs, from the model's config alone (`clintune memory`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class MemoryReport:
    plan: object  # memory.plan.MemoryPlan: .bytes per component, .fits, .suggestions, .contract() for JSON
    config: object  # the RunConfig planned for
    precision: str
    target: object  # memory.report.Target: device, capacity, label
    measured: dict | None = None  # real steps run here, with --measure
    chart: Path | None = None

    def headline(self) -> str:
        from clintune.memory.report import headline

        return headline(self.config, self.precision, self.plan)

    def table(self) -> list[tuple[str, ...]]:
        """Rows of (component, bytes, GiB[, measured bytes, error %])."""
        from clintune.memory.report import plan_table

        return plan_table(self.plan, self.measured["bytes"] if self.measured else None)

    def components(self) -> list[tuple[str, int]]:
        """(component key, bytes) in the plan's order, the peak ("total") last: for a UI to label in its language."""
        from clintune.memory.units import COMPONENTS

        return [(key, self.plan.bytes[key]) for key in (*COMPONENTS, "total")]

    def suggestion_lines(self) -> list[str]:
        from clintune.memory.plan import suggestion_lines

        return suggestion_lines(self.plan.suggestions)


def gpus() -> dict[str, int]:
    """The GPUs the planner knows by name (`--gpu`), with the memory their driver reports, in MiB."""
    from clintune.memory.units import GPUS

    return {name: mib for name, (mib, _) in GPUS.items()}


def plan_memory(model: str, method: str = "lora", lora_r: int | None = None, lora_targets: str = "all-linear",
                seq_len: int = 512, batch_size: int = 2, checkpointing: bool = False, optimizer: str = "adamw",
                dtype: str | None = None, quant: str = "nf4", double_quant: bool = False, gpu: str | None = None,
                gpu_memory: str | None = None, generate_tokens: int = 256, plot: Path | None = None,
                measure: bool = False, device: str = "cuda", weights_dtype: str = "auto", loss: str = "auto",
                optimizer_in_backward: bool = False, activation_offloading: bool = False,
                stage: str = "sft") -> MemoryReport:
    """Plan a training step of `model` (short name, folder, hub id or config.json) without downloading or
    allocating its weights. With `gpu` (t4, l4, a100-40, ...) or `gpu_memory` ("16GiB") the plan says whether it
    fits and, if not, what would. `stage` plans SFT (and note pretraining), or a DPO or KTO step after it. `measure`
    also runs real steps here; `plot` writes full/LoRA/QLoRA side by side."""
    from clintune.errors import ClintuneError
    from clintune.memory.report import gpu_target, memory_config, plot_methods

    if device not in ("cuda", "cpu"):
        raise ClintuneError(f"unknown --device '{device}'", fix="use cuda or cpu")
    if stage not in ("sft", "pretrain", "dpo", "kto"):
        raise ClintuneError(f"unknown --stage '{stage}'", fix="use sft, pretrain, dpo or kto")
    if stage in ("dpo", "kto") and method == "full":
        raise ClintuneError(f"stage {stage} trains an adapter after SFT", fix="plan it with --method lora, qlora or "
                            "dora")
    target = gpu_target(gpu, gpu_memory, device)
    config, precision = memory_config(model, method, lora_r, lora_targets, seq_len, batch_size, checkpointing,
                                      optimizer, dtype, quant, double_quant, target, weights_dtype, loss,
                                      optimizer_in_backward, activation_offloading)
    # Only now the heavy imports: a mistyped option is answered at once.
    from clintune.memory.estimate import meta_model, model_config_from
    from clintune.memory.plan import plan_memory as plan_for

    base = meta_model(model_config_from(model, config.model.trust_remote_code))
    plan = plan_for(base, config, precision, target.device, target.capacity, generate_tokens, stage)
    if target.capacity is not None and not plan.fits:
        from clintune.memory.plan import suggest

        plan.suggestions = suggest(base, config, precision, target.device, target.capacity, stage)
    report = MemoryReport(plan, config, precision, target)
    if measure and stage in ("dpo", "kto"):
        from clintune.train.measured_step import measure_preference

        report.measured = measure_preference(model, config, stage, batch_size, seq_len)
    elif measure:
        from clintune.train.measured_step import measure_training

        report.measured = measure_training(model, config, batch_size, seq_len)
    if plot is not None:
        plans = {}
        for name in ("full", "lora", "qlora"):
            other = config.model_copy(update={"train": config.train.model_copy(update={"method": name})})
            plans[name] = plan_for(base, other, precision, target.device, target.capacity, generate_tokens)
        train = config.train
        title = (f"batch {train.batch_size} x {train.max_length} tokens; {precision} compute; {train.optimizer}; "
                 f"checkpointing {'on' if train.gradient_checkpointing else 'off'}")
        path = Path(model)
        label = (path.parent.name if path.name == "config.json" else path.stem) if model.endswith(".json") \
            else path.name
        plot_methods(plans, plot, f"{label} ({plan.params_total / 1e9:.2f}B parameters): {title}", target)
        report.chart = plot
    return report
