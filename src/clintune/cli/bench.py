"""`clintune bench`: a thin command over clintune.api.bench."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from clintune import api
from clintune.cli.console import info, out, wide


def bench(
    run: Annotated[Path, typer.Argument(help="Run directory of a finished training run.")],
    tasks: Annotated[str, typer.Option("--tasks", help="Comma-separated lm-eval task names, or the shortcuts "
                                       "notes (offline, from generated notes), clinical, kormedmcqa.")] = "notes",
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Your local copies: DIR/TASK/SPLIT.jsonl "
                                                  "(or .json, .parquet, .csv).")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N documents of each task.")]
    = None,
    no_base: Annotated[bool, typer.Option("--no-base", help="Score the tuned model only.")] = False,
    chat_template: Annotated[bool, typer.Option("--apply-chat-template", help="Wrap prompts in the model's chat "
                                                "template (lm-eval's --apply_chat_template).")] = False,
):
    """Score the base model and the run on lm-evaluation-harness tasks through a real `clintune serve`."""
    names = [name.strip() for name in tasks.split(",") if name.strip()]
    result = api.bench(run, names, data_dir, limit, not no_base, chat_template, say=info)
    table = Table(title=f"lm-eval through clintune serve ({run.name})")
    for column in ("task", "metric", "base", "tuned", "tuned - base"):
        table.add_column(column, justify="left" if column in ("task", "metric") else "right", no_wrap=True)
    for row in result.rows:
        base, tuned = row["base"], row["tuned"]
        table.add_row(row["task"], row["metric"], _cell(base, row["base_stderr"]), _cell(tuned, row["tuned_stderr"]),
                      f"{tuned - base:+.3f}" if base is not None else "")
    wide.print(table)
    out.print(f"results written to {result.folder / 'results.json'}")


def _cell(value: float | None, stderr: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.3f}" + (f" ± {stderr:.3f}" if stderr else "")
