"""`clintune eval`, `score`, `report` and `prompt ...`: thin commands over clintune.api (parse, call, print)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from clintune import api
from clintune.cli.console import err
from clintune.cli.console import wide as out
from clintune.errors import ClintuneError

COLUMNS = (("ROUGE-1", "rouge1", 3), ("ROUGE-2", "rouge2", 3), ("ROUGE-L", "rouge_l", 3), ("BLEU", "bleu", 1),
           ("chrF", "chrf", 1), ("F1", "token_f1", 3), ("EM", "exact_match", 3), ("set F1", "set_f1", 3),
           ("unans. acc", "unanswerable_accuracy", 3), ("ungrounded", "ungrounded_share", 3),
           ("spans/ans", "unsupported_per_answer", 2), ("ungr. unans", "ungrounded_share_unanswerable", 3))


GROUNDING_LINE = ("ungrounded: share of answerable questions whose answer asserts something the note does not hold; "
                  "spans/ans: such spans per answer; ungr. unans: the same share on unanswerable questions")


def scores_table(result: dict | None = None, rows: list[tuple[str, dict]] | None = None, first: str = "scope",
                 title: str | None = None) -> Table:
    """Metrics as a table: a result's overall and per-task rows, or the given (label, scores) rows."""
    rows = rows if rows is not None else [("overall", result["overall"]), *result["per_task"].items()]
    table = Table(box=None, pad_edge=False, title=title)
    for name in (first, "n", *(c[0] for c in COLUMNS)):
        table.add_column(name, justify="left" if name == first else "right")
    for label, block in rows:
        cells = [f"{block[key]:.{digits}f}" if block.get(key) is not None else "-" for _, key, digits in COLUMNS]
        table.add_row(label, str(block["n"]), *cells)
    return table


def score(
    predictions: Annotated[Path, typer.Option("--predictions", help="JSONL: prediction, answer, optional task; with "
                                              "note (and question) on every line, grounding too.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print {overall, per_task} as JSON.")] = False,
    tokenize: Annotated[str, typer.Option("--tokenize", help="ROUGE tokenisation: default, ko-char or ko-morph "
                                          "(Korean).")] = "default",
    bootstrap: Annotated[int, typer.Option("--bootstrap", min=0, help="Resamples for the 95% intervals.")] = 1000,
    bertscore: Annotated[str | None, typer.Option("--bertscore", help="Also BERTScore F1 with this local encoder "
                                                  "folder (needs the optional bert-score package).")] = None,
):
    """Score predictions made elsewhere (GPT-4, another tool) with the metrics of `clintune eval`."""
    result = api.score_file(predictions, tokenize, bootstrap, bertscore)
    if as_json:
        out.print(json.dumps({k: result[k] for k in ("overall", "per_task", "bootstrap", "tokenize")}))
        return
    out.print(scores_table(result))
    low, high = result["overall"]["ci95"]["rouge_l"]
    out.print(f"overall ROUGE-L 95% interval [{low:.3f}, {high:.3f}] ({result['bootstrap']} bootstrap resamples); "
              "ROUGE and F1 on 0-1, BLEU and chrF on sacrebleu's 0-100")
    out.print(GROUNDING_LINE if "ungrounded_share" in result["overall"] else
              "grounding not scored: give every line its note (and question)")


def evaluate(
    run: Annotated[Path | None, typer.Option("--run", help="A training run directory: evaluates what it trained.")]
    = None,
    model: Annotated[str | None, typer.Option("--model", help="Or a model short name, folder or hub id.")] = None,
    adapter: Annotated[str | None, typer.Option("--adapter", help="With --model: a LoRA adapter folder.")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="Question-answer rows: a data file, or a prepared "
                                              "folder (default with --run: the run's data/).")] = None,
    split: Annotated[str, typer.Option("--split", help="Which split of a prepared folder.")] = "test",
    compare_base: Annotated[bool, typer.Option("--compare-base", help="Also evaluate with the adapter off, on the "
                                               "same examples with the same decoding.")] = False,
    template: Annotated[str | None, typer.Option("--template", help="asclepius, phi2, alpaca, chat or a .txt file "
                                                 "(default: the run's own, else asclepius).")] = None,
    chat: Annotated[bool | None, typer.Option("--chat/--no-chat", help="Template inside the model's chat template "
                                              "(default: the run's own, else on).")] = None,
    technique: Annotated[str, typer.Option("--technique", help="zero-shot, few-shot, retrieved-few-shot, cot or "
                                           "self-consistency.")] = "zero-shot",
    k: Annotated[int, typer.Option("--k", min=1, help="Examples for few-shot; samples for self-consistency.")] = 3,
    train_data: Annotated[Path | None, typer.Option("--train-data", help="Where few-shot examples come from "
                                                    "(default: the prepared folder's train split).")] = None,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", min=1)] = 256,
    num_beams: Annotated[int, typer.Option("--num-beams", min=1, help="Beam search (the paper used 5).")] = 1,
    sample: Annotated[bool, typer.Option("--sample", help="Sample instead of greedy decoding.")] = False,
    temperature: Annotated[float, typer.Option("--temperature", min=0.01)] = 1.0,
    top_p: Annotated[float, typer.Option("--top-p", min=0.01, max=1.0)] = 1.0,
    stop: Annotated[list[str] | None, typer.Option("--stop", help="A stop string (repeatable).")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 8,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N examples.")] = None,
    tokenize: Annotated[str, typer.Option("--tokenize", help="ROUGE tokenisation: default, ko-char, ko-morph.")]
    = "default",
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output folder (default: RUN/eval, or "
                                                 "runs/eval-<timestamp>); rerun with the same --out to resume.")]
    = None,
    judge_url: Annotated[str | None, typer.Option("--judge", help="OpenAI-compatible URL of the judge model (the "
                                                  "Asclepius 4-point rubric).")] = None,
    judge_model: Annotated[str | None, typer.Option("--judge-model", help="The judge's model name.")] = None,
    judge_key_env: Annotated[str | None, typer.Option("--judge-key-env", help="Environment variable holding the "
                                                      "judge's API key (never printed).")] = None,
    judge_max_tokens: Annotated[int, typer.Option("--judge-max-tokens", min=1, help="Per judge reply.")] = 512,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
):
    """Evaluate a model on held-out questions: reference metrics per task, base and tuned side by side."""
    if (judge_url is None) != (judge_model is None):
        raise ClintuneError("--judge and --judge-model go together", fix="give both, or neither")
    judge = api.JudgeSettings(judge_url, judge_model, judge_key_env, judge_max_tokens) if judge_url else None
    decoding = api.Decoding(max_new_tokens, num_beams, sample, temperature, top_p, tuple(stop or ()))
    metrics = api.evaluate(run, model, adapter, data, split, compare_base, template, chat, technique, k, train_data,
                           decoding, batch_size, limit, tokenize, out_dir, judge)
    out_dir = metrics.pop("out")
    if as_json:
        out.print(json.dumps(metrics))
        return
    for name in ("base", "tuned"):
        if name in metrics:
            out.print(Text.assemble((name, "bold"), f" ({metrics['model']}, {metrics['n']} examples)"))
            out.print(scores_table(metrics[name]))
    if "gain" in metrics:
        out.print(f"tuned - base: ROUGE-L {100 * metrics['gain']['rouge_l']:+.1f} points, token F1 "
                  f"{100 * metrics['gain']['token_f1']:+.1f} points")
    out.print(GROUNDING_LINE)
    if "judge" in metrics:
        verdict = metrics["judge"]
        means = ", ".join(f"{name} {s['mean']:.2f} (n={s['n']})" if s["mean"] is not None else f"{name} -"
                          for name, s in verdict["scores"].items())
        out.print(f"judge {verdict['model']} (1-4): {means}; {verdict['missing']} unparseable replies counted as "
                  "missing")
        if "pairwise" in verdict:
            pair = verdict["pairwise"]
            out.print(f"pairwise (both orders): tuned wins {pair['wins']['tuned']}, base wins {pair['wins']['base']}, "
                      f"ties {pair['ties']}, missing {pair['missing']}")
    out.print(f"predictions and metrics in {out_dir}")


prompt_app = typer.Typer(help="Prompt templates: see exactly what a model is sent.", no_args_is_help=True)


@prompt_app.command("render")
def prompt_render(
    model: Annotated[str, typer.Option("--model", help="Whose tokenizer (and chat template) renders it.")],
    template: Annotated[str, typer.Option("--template", help="asclepius, phi2, alpaca, chat or a .txt file.")]
    = "asclepius",
    chat: Annotated[bool, typer.Option("--chat/--no-chat", help="Inside the model's chat template.")] = True,
    data: Annotated[Path | None, typer.Option("--data", help="Take the note and question from this data file.")]
    = None,
    index: Annotated[int, typer.Option("--index", min=0, help="Which row of --data.")] = 0,
    note: Annotated[Path | None, typer.Option("--note", help="Or a note from a text file.")] = None,
    question: Annotated[str | None, typer.Option("--question", help="With --note: the question.")] = None,
):
    """Print the exact text sent to the model, special tokens and all, with its token counts."""
    text_note = None
    if note is not None:
        try:
            text_note = note.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            raise ClintuneError(f"cannot read the note '{note}'", fix="give a UTF-8 text file") from None
    rendered = api.render_prompt(model, template, chat, text_note, question, data, index)
    out.print(rendered.text, end="")
    err.print(f"\n[{rendered.tokens} tokens; the template's own text {rendered.template_tokens}]")


@prompt_app.command("compare")
def prompt_compare(
    run: Annotated[Path | None, typer.Option("--run", help="A training run directory.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Or a model short name, folder or hub id.")] = None,
    adapter: Annotated[str | None, typer.Option("--adapter", help="With --model: a LoRA adapter folder.")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="Question-answer rows, or a prepared folder.")] = None,
    split: Annotated[str, typer.Option("--split")] = "test",
    techniques: Annotated[str, typer.Option("--techniques", help="Comma-separated; default: all five.")]
    = "zero-shot,few-shot,retrieved-few-shot,cot,self-consistency",
    k: Annotated[int, typer.Option("--k", min=1)] = 3,
    train_data: Annotated[Path | None, typer.Option("--train-data")] = None,
    template: Annotated[str | None, typer.Option("--template")] = None,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", min=1)] = 256,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 8,
    limit: Annotated[int | None, typer.Option("--limit", min=1)] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output folder (default runs/prompt-compare-*).")]
    = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
):
    """Run several prompt techniques on the same model and data; print metrics per technique and per task."""
    chosen = tuple(name.strip() for name in techniques.split(",") if name.strip())
    results, facts = api.compare_prompts(run, model, adapter, data, split, chosen, k, train_data, template,
                                         api.Decoding(max_new_tokens), batch_size, limit, out_dir)
    if as_json:
        out.print(json.dumps(results))
        return
    out.print(scores_table(rows=[(name, block["overall"]) for name, block in results.items()], first="technique",
                           title=f"{facts['model']}, {facts['n']} examples, template {facts['template']}"))
    tasks = sorted({t for block in results.values() for t in block["per_task"]})
    by_task = Table(box=None, pad_edge=False, title="ROUGE-L per task")
    for name in ("task", *results):
        by_task.add_column(name, justify="left" if name == "task" else "right")
    for task in tasks:
        by_task.add_row(task, *[f"{b['per_task'][task]['rouge_l']:.3f}" if task in b["per_task"] else "-"
                                for b in results.values()])
    out.print(by_task)
    out.print(f"predictions per technique in {facts['out']}")


def report(run_dir: Annotated[Path, typer.Argument(help="A run directory (after training, or the demo).")]):
    """Write RUN_DIR/report.html (one file, charts embedded) and report.md: data card, loss, memory plan, metrics
    base vs tuned with intervals, judge scores, and the examples the tuning helped and hurt most."""
    markdown, page = api.report(run_dir)
    out.print(f"report: {page} (and {markdown.name})")


def pairs(
    run: Annotated[Path, typer.Option("--run", help="An SFT run directory.")],
    out_path: Annotated[Path, typer.Option("--out", help="The pairs file to write (JSONL: prompt, chosen, "
                                           "rejected, and how each was made).")],
    samples: Annotated[int, typer.Option("--samples", min=1, max=64, help="Answers sampled per question.")] = 4,
    questions: Annotated[int | None, typer.Option("--questions", min=1, help="Only the first N training "
                                                  "questions.")] = None,
    temperature: Annotated[float, typer.Option("--temperature", min=0.05, max=2.0)] = 1.0,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", min=1)] = 96,
    seed: Annotated[int, typer.Option("--seed", min=0)] = 0,
    kto: Annotated[Path | None, typer.Option("--kto", help="Also write KTO rows (prompt, completion, label).")]
    = None,
    judge_url: Annotated[str | None, typer.Option("--judge", help="Grade the answers with the Asclepius judge at "
                                                  "this OpenAI-compatible URL instead of against the gold answers.")]
    = None,
    judge_model: Annotated[str | None, typer.Option("--judge-model", help="The judge's model name.")] = None,
    judge_key_env: Annotated[str | None, typer.Option("--judge-key-env", help="Environment variable holding the "
                                                      "judge's API key (never printed).")] = None,
    judge_max_tokens: Annotated[int, typer.Option("--judge-max-tokens", min=1, help="Per judge reply.")] = 512,
    min_gap: Annotated[int, typer.Option("--min-gap", min=1, max=3, help="With --judge: the grades of a pair's "
                                         "two answers differ by at least this.")] = 1,
):
    """Preference pairs from what an SFT run answers: offline, the gold answer against a sampled answer that the note
    does not support or that is wrong; with --judge, the judge's best-graded answer against its worst, kept when the
    pairwise judge agrees in both orders."""
    if (judge_url is None) != (judge_model is None):
        raise ClintuneError("--judge and --judge-model go together", fix="give both, or neither")
    judge = api.JudgeSettings(judge_url, judge_model, judge_key_env, judge_max_tokens, seed) if judge_url else None
    made = api.pairs(run, out_path, samples, questions, temperature, max_new_tokens, seed, kto, judge, min_gap,
                     say=err.print)
    how = (f"rejected: {made.rejected_ungrounded} ungrounded, {made.rejected_wrong} wrong" if made.judged is None
           else f"judge: {made.judge_summary()}")
    out.print(f"{made.pairs_kept} pairs from {made.questions} questions written to {made.pairs} ({how})"
              + (f"; {made.kto_rows} KTO rows in {made.kto}" if made.kto else ""))
