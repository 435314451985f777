"""`clintune score` (and the evaluation commands): thin wrappers over clintune.evaluate (parse, call, print)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from clintune.errors import ClintuneError

out = Console(soft_wrap=True)

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


def scores_table(result: dict) -> Table:
    table = Table(box=None, pad_edge=False)
    for name in ("scope", "n", *(c[0] for c in COLUMNS)):
        table.add_column(name, justify="left" if name == "scope" else "right")
    for scope, block in [("overall", result["overall"]), *result["per_task"].items()]:
        cells = [f"{block[key]:.{digits}f}" if block.get(key) is not None else "-" for _, key, digits in COLUMNS]
        table.add_row(scope, str(block["n"]), *cells)
    return table


def score(
    predictions: Annotated[Path, typer.Option("--predictions", help="JSONL: prediction, answer, optional task.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print {overall, per_task} as JSON.")] = False,
    tokenize: Annotated[str, typer.Option("--tokenize", help="ROUGE tokenisation: default, ko-char or ko-morph "
                                          "(Korean).")] = "default",
    bootstrap: Annotated[int, typer.Option("--bootstrap", min=0, help="Resamples for the 95% intervals.")] = 1000,
):
    """Score predictions made elsewhere (GPT-4, another tool) with the metrics of `clintune eval`."""
    from clintune.evaluate.scores import score_predictions

    preds, answers, tasks = read_predictions(predictions)
    result = score_predictions(preds, answers, tasks, tokenize=tokenize, bootstrap=max(bootstrap, 1))
    if as_json:
        out.print(json.dumps({k: result[k] for k in ("overall", "per_task", "bootstrap", "tokenize")}),
                  highlight=False)
        return
    out.print(scores_table(result))
    low, high = result["overall"]["ci95"]["rouge_l"]
    out.print(f"overall ROUGE-L 95% interval [{low:.3f}, {high:.3f}] ({result['bootstrap']} bootstrap resamples); "
              "ROUGE and F1 on 0-1, BLEU and chrF on sacrebleu's 0-100", highlight=False)
