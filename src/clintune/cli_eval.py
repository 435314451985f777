"""`clintune score` (and the evaluation commands): thin wrappers over clintune.evaluate (parse, call, print)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from clintune.errors import ClintuneError

# Wide tables stay whole when piped or logged (rich would squeeze them to 80 columns).
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)

COLUMNS = (("ROUGE-1", "rouge1", 3), ("ROUGE-2", "rouge2", 3), ("ROUGE-L", "rouge_l", 3), ("BLEU", "bleu", 1),
           ("chrF", "chrf", 1), ("F1", "token_f1", 3), ("EM", "exact_match", 3), ("set F1", "set_f1", 3),
           ("unans. acc", "unanswerable_accuracy", 3))


def read_predictions(path: Path) -> tuple[list[str], list[str], list[str]]:
    """(predictions, answers, tasks) from JSONL lines with `prediction`, `answer` and optionally `task`."""
    if not path.is_file():
        raise ClintuneError("predictions file not found", where=str(path), fix="give a JSONL file")
    predictions, answers, tasks = [], [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            prediction, answer = row["prediction"], row["answer"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            problem = "not JSON" if isinstance(exc, json.JSONDecodeError) else "no 'prediction' and 'answer'"
            raise ClintuneError(f"line {number} is {problem}", where=str(path),
                                fix='each line: {"prediction": ..., "answer": ..., "task": ...}') from None
        if not isinstance(prediction, str) or not isinstance(answer, str):
            raise ClintuneError(f"line {number}: prediction and answer must be strings", where=str(path),
                                fix="write them as JSON strings")
        predictions.append(prediction)
        answers.append(answer)
        tasks.append(str(row.get("task") or "all"))
    if not predictions:
        raise ClintuneError("the predictions file is empty", where=str(path), fix="give at least one line")
    return predictions, answers, tasks


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
    predictions: Annotated[Path, typer.Option("--predictions", help="JSONL: prediction, answer, optional task.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print {overall, per_task} as JSON.")] = False,
    tokenize: Annotated[str, typer.Option("--tokenize", help="ROUGE tokenisation: default, ko-char or ko-morph "
                                          "(Korean).")] = "default",
    bootstrap: Annotated[int, typer.Option("--bootstrap", min=0, help="Resamples for the 95% intervals.")] = 1000,
    bertscore: Annotated[str | None, typer.Option("--bertscore", help="Also BERTScore F1 with this local encoder "
                                                  "folder (needs the optional bert-score package).")] = None,
):
    """Score predictions made elsewhere (GPT-4, another tool) with the metrics of `clintune eval`."""
    from clintune.evaluate.scores import bertscore_f1, score_predictions

    preds, answers, tasks = read_predictions(predictions)
    bert = bertscore_f1(preds, answers, bertscore) if bertscore else None
    result = score_predictions(preds, answers, tasks, tokenize=tokenize, bootstrap=max(bootstrap, 1))
    if bert is not None:
        result["overall"]["bertscore_f1"] = sum(bert) / len(bert)
        for task, block in result["per_task"].items():
            values = [b for b, t in zip(bert, tasks, strict=True) if t == task]
            block["bertscore_f1"] = sum(values) / len(values)
    if as_json:
        out.print(json.dumps({k: result[k] for k in ("overall", "per_task", "bootstrap", "tokenize")}),
                  highlight=False)
        return
    out.print(scores_table(result))
    low, high = result["overall"]["ci95"]["rouge_l"]
    out.print(f"overall ROUGE-L 95% interval [{low:.3f}, {high:.3f}] ({result['bootstrap']} bootstrap resamples); "
              "ROUGE and F1 on 0-1, BLEU and chrF on sacrebleu's 0-100", highlight=False)


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
    from clintune.evaluate.generate import Decoding
    from clintune.evaluate.metrics import rouge_tokenizer
    from clintune.evaluate.run_eval import eval_rows
    from clintune.evaluate.run_eval import evaluate as run_evaluation
    from clintune.models.load import load_trained

    rouge_tokenizer(tokenize)  # a bad name fails before any model loads
    if compare_base and run is None and adapter is None:
        raise ClintuneError("--compare-base needs an adapter to switch off",
                            fix="evaluate a LoRA run (--run) or give --adapter")
    data = data or (run / "data" if run else None)
    if data is None:
        raise ClintuneError("no evaluation data", fix="give --data PATH (or --run, whose data/ is used)")
    rows = eval_rows(data, split, limit)
    from clintune.prompts.techniques import Technique

    chosen = Technique(technique, k)
    train_rows = _train_rows(chosen, train_data, data)
    out_dir = out_dir or (run / "eval" if run else None)
    if out_dir is None:
        from clintune.runs import new_run_dir

        out_dir = new_run_dir("eval", None)
    out_dir.mkdir(parents=True, exist_ok=True)
    decoding = Decoding(max_new_tokens, num_beams, sample, temperature, top_p, tuple(stop or ()))
    judge = _judge(judge_url, judge_model, judge_key_env, out_dir, judge_max_tokens)
    trained = load_trained(run, model, adapter, keep_adapter=compare_base)
    if template is not None:
        from clintune.prompts.templates import check_template_length

        check_template_length(trained.tokenizer, template)
        trained.template = template
    if chat is not None or trained.template == "chat":
        trained.chat = True if trained.template == "chat" else chat
    metrics = run_evaluation(trained, rows, out_dir, decoding, batch_size, compare_base, tokenize, judge, chosen,
                             train_rows)
    if as_json:
        out.print(json.dumps(metrics), highlight=False)
        return
    for name in ("base", "tuned"):
        if name in metrics:
            out.print(f"[bold]{name}[/bold] ({metrics['model']}, {metrics['n']} examples)")
            out.print(scores_table(metrics[name]))
    if "gain" in metrics:
        out.print(f"tuned - base: ROUGE-L {100 * metrics['gain']['rouge_l']:+.1f} points, token F1 "
                  f"{100 * metrics['gain']['token_f1']:+.1f} points", highlight=False)
    if "judge" in metrics:
        verdict = metrics["judge"]
        means = ", ".join(f"{name} {s['mean']:.2f} (n={s['n']})" if s["mean"] is not None else f"{name} -"
                          for name, s in verdict["scores"].items())
        out.print(f"judge {verdict['model']} (1-4): {means}; {verdict['missing']} unparseable replies counted as "
                  "missing", highlight=False)
        if "pairwise" in verdict:
            pair = verdict["pairwise"]
            out.print(f"pairwise (both orders): tuned wins {pair['wins']['tuned']}, base wins {pair['wins']['base']}, "
                      f"ties {pair['ties']}, missing {pair['missing']}", highlight=False)
    out.print(f"predictions and metrics in {out_dir}", highlight=False)


def _train_rows(technique, train_data: Path | None, data: Path) -> list[dict]:
    if technique.name not in ("few-shot", "retrieved-few-shot"):
        return []
    from clintune.evaluate.run_eval import eval_rows

    source = train_data or (data if data.is_dir() else None)
    if source is None:
        raise ClintuneError(f"--technique {technique.name} needs training examples",
                            fix="give --train-data PATH, or evaluate a prepared folder (a run's data/)")
    return eval_rows(source, "train")


def _judge(url: str | None, model: str | None, key_env: str | None, out_dir: Path, max_tokens: int):
    if url is None and model is None:
        return None
    if not (url and model):
        raise ClintuneError("--judge and --judge-model go together", fix="give both, or neither")
    import os

    from clintune.evaluate.judge import Judge
    from clintune.openai_client import ChatClient

    key = os.environ.get(key_env) if key_env else None
    if key_env and not key:
        raise ClintuneError(f"--judge-key-env {key_env}: that environment variable is empty or unset",
                            fix=f"export {key_env}=<the judge's key>")
    return Judge(ChatClient(url, model, key), cache_path=out_dir / "judge.cache.jsonl", max_tokens=max_tokens)


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
    from clintune.models.load import load_tokenizer
    from clintune.prompts.templates import check_template_length, encode_prompt, render_prompt

    if data is not None:
        from clintune.data.load import open_dataset

        rows = open_dataset(data)
        if index >= len(rows):
            raise ClintuneError(f"--index {index} but the data has {len(rows)} rows", fix="choose a smaller index")
        text_note, text_question = rows[index]["note"], rows[index]["question"]
    elif note is not None and question is not None:
        try:
            text_note = note.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            raise ClintuneError(f"cannot read the note '{note}'", fix="give a UTF-8 text file") from None
        text_question = question
    else:
        raise ClintuneError("nothing to render", fix="give --data PATH [--index N], or --note FILE --question TEXT")
    tokenizer = load_tokenizer(model)
    own = check_template_length(tokenizer, template)
    chat = chat or template == "chat"
    prompt = render_prompt(tokenizer, text_note, text_question, template, chat)
    out.print(prompt, markup=False, highlight=False, end="")
    err = Console(stderr=True, soft_wrap=True)
    err.print(f"\n[{len(encode_prompt(tokenizer, prompt, chat))} tokens; the template's own text {own}]",
              markup=False, highlight=False)


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
    from clintune.evaluate.generate import Decoding
    from clintune.evaluate.run_eval import compare_techniques, eval_rows
    from clintune.models.load import load_trained
    from clintune.prompts.techniques import Technique
    from clintune.runs import new_run_dir

    chosen = [Technique(name.strip(), k) for name in techniques.split(",") if name.strip()]
    data = data or (run / "data" if run else None)
    if data is None:
        raise ClintuneError("no evaluation data", fix="give --data PATH (or --run, whose data/ is used)")
    rows = eval_rows(data, split, limit)
    needs_train = [t for t in chosen if t.name in ("few-shot", "retrieved-few-shot")]
    train_rows = _train_rows(needs_train[0], train_data, data) if needs_train else []
    out_dir = new_run_dir("prompt-compare", out_dir)
    trained = load_trained(run, model, adapter)
    if template:
        trained.template = template
        trained.chat = trained.chat or template == "chat"
    results = compare_techniques(trained, rows, chosen, out_dir, Decoding(max_new_tokens), batch_size, train_rows)
    if as_json:
        out.print(json.dumps(results), highlight=False)
        return
    out.print(scores_table(rows=[(name, block["overall"]) for name, block in results.items()], first="technique",
                           title=f"{trained.name}, {len(rows)} examples, template {trained.template}"))
    tasks = sorted({t for block in results.values() for t in block["per_task"]})
    by_task = Table(box=None, pad_edge=False, title="ROUGE-L per task")
    for name in ("task", *results):
        by_task.add_column(name, justify="left" if name == "task" else "right")
    for task in tasks:
        by_task.add_row(task, *[f"{b['per_task'][task]['rouge_l']:.3f}" if task in b["per_task"] else "-"
                                for b in results.values()])
    out.print(by_task)
    out.print(f"predictions per technique in {out_dir}", highlight=False)


def report(run_dir: Annotated[Path, typer.Argument(help="A run directory (after training, or the demo).")]):
    """Write RUN_DIR/report.html (one file, charts embedded) and report.md: data card, loss, memory plan, metrics
    base vs tuned with intervals, judge scores, and the examples the tuning helped and hurt most."""
    from clintune.evaluate.report import build_report

    markdown, page = build_report(run_dir)
    out.print(f"report: {page} (and {markdown.name})", highlight=False)
