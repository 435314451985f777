"""clintune's public Python API: the one way in. The `clintune` command, the demo and any notebook call these.

The course's steps, from Python (each line is also a `clintune` command):

    from pathlib import Path
    from clintune import api
    from clintune.privacy import disable_telemetry

    disable_telemetry()                                          # before transformers loads, as the CLI does
    api.generate(2000, Path("notes.jsonl"))                      # clintune data generate --n 2000 --out notes.jsonl
    assert api.validate("notes.jsonl").ok                        # clintune data validate notes.jsonl
    plan = api.plan_memory("phi-2", method="qlora", gpu="t4")    # clintune memory --model phi-2 --method qlora --gpu t4
    config = api.load_config("demo", ["data.path=notes.jsonl"])
    run = api.train(config)                                      # clintune train demo data.path=notes.jsonl
    metrics = api.evaluate(run=run, compare_base=True)           # clintune eval --run RUN --compare-base
    api.report(run)                                              # clintune report RUN
    api.export(run, type="q8_0")                                 # clintune export RUN --type q8_0
    api.bench(run, ["notes"])                                      # clintune bench RUN --tasks notes
    api.chat(run=run, note=Path("note.txt")).answer("Which antibiotic?", sys.stdout)

Every function raises `clintune.errors.ClintuneError` for bad input: one line saying what, where and how to fix.
"""

from clintune.api.bench import bench
from clintune.api.data import (
    PhiScan,
    PreparedData,
    RenderedPrompt,
    generate,
    load,
    masked_snippet,
    note_kinds,
    prepare,
    preview,
    render_prompt,
    scan_phi,
    stats,
    synthesize,
    validate,
    validate_preference,
)
from clintune.api.demo import DEMO_OVERRIDES, QUICK_OVERRIDES, demo
from clintune.api.evaluate import (
    JudgeSettings,
    compare_prompts,
    comparison_rows,
    evaluate,
    pairs,
    report,
    score,
    score_file,
)
from clintune.api.export import export
from clintune.api.export import summary as export_summary
from clintune.api.memory import MemoryReport, gpus, plan_memory
from clintune.api.serve import chat, load_model, serve, server_app
from clintune.api.train import (
    config_yaml,
    fetch_model,
    in_distributed_launch,
    load_config,
    merge,
    models,
    models_folder,
    recipe_text,
    recipes,
    train,
)
from clintune.config import RunConfig
from clintune.errors import ClintuneError
from clintune.evaluate.decoding import Decoding


def doctor() -> list[tuple[str, str]]:
    """(label, value) pairs: versions, device, bf16, bitsandbytes backend, cache and offline state."""
    from clintune.doctor import report as doctor_report

    return doctor_report()


__all__ = [
    "bench", "chat", "ClintuneError", "compare_prompts", "comparison_rows", "config_yaml", "Decoding", "demo",
    "DEMO_OVERRIDES", "doctor", "evaluate", "export", "export_summary", "fetch_model", "generate", "gpus",
    "in_distributed_launch",
    "JudgeSettings", "load", "load_config", "load_model", "masked_snippet", "MemoryReport", "merge", "models",
    "models_folder", "note_kinds", "pairs", "PhiScan", "plan_memory", "prepare", "PreparedData", "preview",
    "QUICK_OVERRIDES",
    "recipe_text", "recipes", "render_prompt", "RenderedPrompt", "report", "RunConfig", "scan_phi", "score",
    "score_file", "serve", "server_app", "stats", "synthesize", "train", "validate", "validate_preference",
]
