"""`clintune data ...`: thin commands over clintune.api.data (parse, call, print)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from clintune import api
from clintune.cli.console import err, out, styled, warn
from clintune.errors import USER_ERROR_EXIT_CODE

data_app = typer.Typer(help="Load, check, describe, prepare, generate and scan clinical QA data.",
                       no_args_is_help=True)

PathArg = Annotated[str, typer.Argument(help="CSV, TSV, JSONL, JSON, Parquet, save_to_disk folder, .txt notes "
                                              "(file or folder), or a hub dataset id when online.")]
ColumnsOpt = Annotated[str | None, typer.Option("--columns", help="Column mapping canonical=source,... e.g. "
                                                "question=instruction,note=input,answer=output; or alpaca, messages.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of a table.")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Refuse a file with malformed rows (and notes-only data "
                                         "with empty or repeated notes) instead of skipping them by name.")]
CleanOpt = Annotated[bool, typer.Option("--clean-export", help="Undo an export's ',HEADING:,' commas and HTML "
                                        "entities (&quot;) in the text.")]
TokenizerOpt = Annotated[str | None, typer.Option("--tokenizer", help="Model short name or folder whose tokenizer "
                                                  "counts tokens.")]
TemplateOpt = Annotated[str, typer.Option("--template", help="Prompt template (asclepius).")]
ChatOpt = Annotated[bool, typer.Option("--chat/--no-chat", help="Put the template in the model's chat user turn.")]


def _print_json(data) -> None:
    out.print_json(json.dumps(data, ensure_ascii=False))


def _warn(lines: list[str]) -> None:
    for line in lines:
        warn(line)


@data_app.command("validate")
def validate_cmd(path: PathArg, columns: ColumnsOpt = None,
                 notes_only: Annotated[bool, typer.Option("--notes-only", help="Only a note column is needed.")]
                 = False,
                 max_note_chars: Annotated[int, typer.Option("--max-note-chars", min=1, help="Notes longer than "
                                                             "this are an error.")] = 16_000,
                 strict: StrictOpt = False, clean_export: CleanOpt = False, as_json: JsonOpt = False):
    """Check data before training; exit 0 when usable, 2 with one line per kind of problem."""
    report = api.validate(path, columns, notes_only or None, max_note_chars, strict, clean_export)
    if as_json:
        _print_json(report.as_json())
    else:
        _warn(report.warnings)
        for problem in report.problems:
            style = "yellow" if problem.severity == "warning" else "red"
            err.print(report.line(problem), style=style)
        kind = "notes (stage-1 pretraining)" if report.notes_only else "question-answer rows"
        verdict = styled("usable", "green") if report.ok else styled("not usable", "red")
        out.print(Text.assemble(f"{report.rows:,} {kind} in {path}: ", verdict))
    if not report.ok:
        raise typer.Exit(USER_ERROR_EXIT_CODE)


@data_app.command("validate-pairs")
def validate_pairs_cmd(path: PathArg,
                       stage: Annotated[str, typer.Option("--stage", help="dpo (prompt, chosen, rejected) or kto "
                                                          "(prompt, completion, label).")] = "dpo",
                       tokenizer: TokenizerOpt = None, template: TemplateOpt = "asclepius", chat: ChatOpt = True,
                       allow_phi: Annotated[str | None, typer.Option("--allow-phi", help="Accept identifiers, for "
                                                                     "this reason.")] = None,
                       as_json: JsonOpt = False):
    """Check a preference file before a dpo or kto stage: every row, its shape, and the identifier scan."""
    data = api.validate_preference(path, stage, tokenizer, template, chat, allow_phi)
    if as_json:
        _print_json(data.card())
        return
    scan = data.scan
    found = f"{scan['findings']} identifiers allowed ({allow_phi})" if scan.get("findings") else "no identifiers"
    out.print(Text.assemble(f"{len(data.rows):,} {stage} rows ({data.shape} shape; made by "
                            f"{', '.join(data.card()['made_by'])}; {found}) in {path}: ", styled("usable", "green")))


@data_app.command("stats")
def stats_cmd(path: PathArg, columns: ColumnsOpt = None, tokenizer: TokenizerOpt = None,
              template: TemplateOpt = "asclepius", chat: ChatOpt = True,
              plot: Annotated[Path | None, typer.Option("--plot", help="Write length histograms to this PNG.")] = None,
              strict: StrictOpt = False, clean_export: CleanOpt = False, as_json: JsonOpt = False):
    """Rows, patients, task mix, and lengths in characters (and tokens, with --tokenizer)."""
    summary, warnings = api.stats(path, columns, tokenizer, template, chat, plot, strict, clean_export)
    if as_json:
        _print_json(summary)
        return
    _warn(warnings)
    out.print(f"{summary['rows']:,} rows, {summary['patients']:,} patients in {path}")
    if summary["tasks"]:
        table = Table(title="task mix")
        table.add_column("task")
        table.add_column("rows", justify="right")
        table.add_column("share", justify="right")
        for task, info in summary["tasks"].items():
            table.add_row(task, f"{info['rows']:,}", f"{info['share']:.1%}")
        out.print(table)
    table = Table(title="lengths")
    for column in ("unit", "column", "min", "p10", "median", "p90", "max", "mean"):
        table.add_column(column, justify="left" if column in ("unit", "column") else "right")
    for unit, by_column in summary["lengths"].items():
        for column, d in by_column.items():
            if d:
                table.add_row(unit, column, *(f"{d[k]:,.0f}" for k in ("min", "p10", "median", "p90", "max", "mean")))
    out.print(table)
    if plot:
        out.print(f"histograms written to {plot}")


@data_app.command("prepare")
def prepare_cmd(path: PathArg,
                out_dir: Annotated[Path, typer.Option("--out", help="New or empty folder for the splits and card.")],
                columns: ColumnsOpt = None,
                max_note_chars: Annotated[int | None, typer.Option(min=1, help="Drop notes longer than this.")] = None,
                max_tokens: Annotated[int | None, typer.Option(min=1, help="Drop examples longer than this (needs "
                                                               "--tokenizer).")] = None,
                tokenizer: TokenizerOpt = None, template: TemplateOpt = "asclepius", chat: ChatOpt = True,
                sample: Annotated[int | None, typer.Option(min=1, help="Keep this many rows, stratified by task.")]
                = None,
                test_size: Annotated[float, typer.Option(min=0.0, help="Whole number: questions per task; below 1: "
                                                         "fraction per task.")] = 0.1,
                val_size: Annotated[float, typer.Option(min=0.0, help="Like --test-size, for validation.")] = 0.1,
                seed: Annotated[int, typer.Option(min=0, max=2**32 - 1)] = 0,
                allow_phi: Annotated[str | None, typer.Option("--allow-phi", help="Proceed despite identifier "
                                                              "findings; the reason is recorded.")] = None,
                strict: StrictOpt = False, clean_export: CleanOpt = False):
    """Filter, sample and split by patient; write train/validation/test JSONL and data_card.json."""
    prepared = api.prepare(path, out_dir, columns, tokenizer, template, chat, max_note_chars=max_note_chars,
                           max_tokens=max_tokens, sample=sample, test_size=test_size, val_size=val_size, seed=seed,
                           allow_phi=allow_phi, strict=strict, clean_export=clean_export)
    _warn(prepared.warnings)
    for path_written in prepared.written:
        out.print(f"wrote {path_written}")
    for step in prepared.card["counts"]:
        out.print(f"  {step['step']}: {step['rows']:,} rows")
    splits = ", ".join(f"{n} {s['rows']:,}" for n, s in prepared.card["splits"].items())
    out.print(f"splits (no patient in two): {splits}")


@data_app.command("generate")
def generate_cmd(n: Annotated[int, typer.Option("--n", min=1, help="Rows to write.")],
                 out_file: Annotated[Path, typer.Option("--out", help=".jsonl, .json, .csv or .parquet")],
                 seed: Annotated[int, typer.Option("--seed", min=0, max=2**32 - 1)] = 0,
                 notes_only: Annotated[bool, typer.Option("--notes-only", help="Notes without questions.")] = False,
                 plant_phi: Annotated[float, typer.Option("--plant-phi", min=0.0, max=1.0, help="Fraction of notes "
                                                          "given invented identifiers (truth in FILE.identifiers.json"
                                                          ").")] = 0.0,
                 kind: Annotated[list[str] | None, typer.Option("--kind", help="Kind of note (repeatable): discharge "
                                                                "summary, operative note, clinic note, diagnostic "
                                                                "report; default all four.")] = None):
    """Synthetic clinical notes with gold answers for the 8 Asclepius tasks (deterministic per seed)."""
    api.generate(n, out_file, seed, notes_only, plant_phi, progress=True, kinds=tuple(kind) if kind else None)
    out.print(f"wrote {n:,} {'notes' if notes_only else 'rows'} to {out_file}")


@data_app.command("scan-phi")
def scan_phi_cmd(path: PathArg, columns: ColumnsOpt = None, as_json: JsonOpt = False,
                 show: Annotated[int, typer.Option(min=0, help="Findings to list (all are counted).")] = 50,
                 strict: StrictOpt = False, clean_export: CleanOpt = False):
    """Scan for patient identifiers (HIPAA Safe Harbor classes); exit 0 when clean, 2 on findings."""
    scan = api.scan_phi(path, columns, progress=not as_json, strict=strict, clean_export=clean_export)
    findings, summary, dataset = scan.findings, scan.summary, scan.dataset
    if as_json:
        _print_json({"findings": [{**f.as_json(), "row": scan.file_row(f)} for f in findings], "summary": summary,
                     "warnings": scan.loaded.warnings})
    else:
        table = Table(title=f"identifiers found in {path} (masked)")
        for column in ("row", "column", "class", "context"):
            table.add_column(column)
        for finding in findings[:show]:
            text = dataset[finding.row][finding.column]
            table.add_row(str(scan.file_row(finding)), finding.column, finding.cls, api.masked_snippet(text, finding))
        _warn(scan.loaded.warnings)
        if findings:
            out.print(table)
        more = f" (first {show} listed)" if len(findings) > show else ""
        by_class = ", ".join(f"{cls} {n}" for cls, n in summary["by_class"].items()) or "none"
        out.print(f"{len(findings):,} identifiers in {summary['rows_with_findings']:,} of {len(dataset):,} rows"
                  f"{more}: {by_class}")
    if findings:
        raise typer.Exit(USER_ERROR_EXIT_CODE)


@data_app.command("preview")
def preview_cmd(path: PathArg, tokenizer: Annotated[str, typer.Option("--tokenizer", help="Model short name or "
                                                                      "folder.")],
                template: TemplateOpt = "asclepius", chat: ChatOpt = True, columns: ColumnsOpt = None,
                n: Annotated[int, typer.Option("--n", min=1)] = 3,
                max_length: Annotated[int, typer.Option(min=1, help="Training max length, to check truncation.")] = 512,
                as_json: JsonOpt = False):
    """Show exactly what training sees: trained tokens in green, masked ones grey, the EOS marked."""
    previews = api.preview(path, tokenizer, template, chat, columns, n, max_length)
    if as_json:
        _print_json([p.as_json() for p in previews])
        return
    for p in previews:
        out.rule(f"row {p.row} · {p.task}")
        out.print(p.as_text(), soft_wrap=True)
        out.print(f"tokens: {p.prompt_tokens} prompt (masked) + {p.answer_tokens} answer incl. EOS (trained) = "
                  f"{p.total} of max {p.max_length}")
        if p.truncation:
            warn(f"row {p.row}: {p.truncation}")
