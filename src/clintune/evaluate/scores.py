"""Scores of a set of predictions, overall and per task, each with a bootstrap 95% confidence interval.

Mean metrics (ROUGE-1/2/L, token F1, exact match, set F1 of list answers, unanswerable accuracy) average the
per-example scores of evaluate/metrics.py. BLEU and chrF are corpus-level, exactly as sacrebleu computes them: each
example's sufficient statistics are extracted once, then summed (for the score and for every bootstrap resample),
which is how sacrebleu's own significance tests resample. ROUGE, token F1 and exact match are on a 0-1 scale; BLEU
and chrF on sacrebleu's 0-100.

Grounding (evaluate/grounding.py), when the notes are known: each answer's unsupported spans, and per block the share
of answers with any unsupported span and the unsupported spans per answer, over the answerable questions; the
unanswerable ones (by their gold answer) are counted apart, since any content there is made up.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
from sacrebleu.metrics import BLEU, CHRF

from clintune.errors import ClintuneError
from clintune.evaluate.grounding import unsupported_spans
from clintune.evaluate.metrics import Scorer, says_unanswerable, set_f1
from clintune.evaluate.sacrebleu_stats import CorpusStatistics

MEAN_METRICS = ("rouge1", "rouge2", "rouge_l", "token_f1", "exact_match")
CORPUS_METRICS = ("bleu", "chrf")


def _interval(values: np.ndarray) -> list[float]:
    low, high = np.percentile(values, [2.5, 97.5])
    return [float(low), float(high)]


def _block(rows: list[int], per_example: list[dict], corpus: dict, resamples: np.ndarray) -> dict:
    """Scores of the examples `rows` (indices into per_example), with their intervals."""
    n = len(rows)
    index = np.array(rows)
    block: dict = {"n": n}
    ci: dict = {}
    draws = index[resamples[:, :n] % n] if n else None
    for name in MEAN_METRICS:
        values = np.array([per_example[i][name] for i in rows])
        block[name] = float(values.mean()) if n else None
        if n:
            ci[name] = _interval(values[resamples[:, :n] % n].mean(axis=1))
    for name, statistics in corpus.items():
        block[name] = float(statistics.score(index)) if n else None
        if n:
            ci[name] = _interval(np.array([statistics.score(draw) for draw in draws[: min(len(draws), 200)]]))
    lists = [per_example[i]["set_f1"] for i in rows if per_example[i]["set_f1"] is not None]
    block["set_f1"], block["n_list"] = (float(np.mean(lists)) if lists else None), len(lists)
    unanswerable = [per_example[i]["flagged_unanswerable"] for i in rows if per_example[i]["gold_unanswerable"]]
    block["unanswerable_accuracy"] = float(np.mean(unanswerable)) if unanswerable else None
    block["n_unanswerable"] = len(unanswerable)
    answerable = [per_example[i]["flagged_unanswerable"] for i in rows if not per_example[i]["gold_unanswerable"]]
    block["unanswerable_false_alarm"] = float(np.mean(answerable)) if answerable else None
    pred_words = np.array([per_example[i]["prediction_words"] for i in rows])
    gold_words = np.array([per_example[i]["reference_words"] for i in rows])
    block["lengths"] = {"prediction_words_mean": float(pred_words.mean()) if n else None,
                        "prediction_words_median": float(np.median(pred_words)) if n else None,
                        "reference_words_mean": float(gold_words.mean()) if n else None,
                        "length_ratio": float(pred_words.sum() / max(gold_words.sum(), 1)) if n else None}
    if per_example and "unsupported_spans" in per_example[0]:
        for scope, gold_unanswerable in (("", False), ("_unanswerable", True)):
            chosen = [per_example[i] for i in rows if per_example[i]["gold_unanswerable"] == gold_unanswerable]
            counts = np.array([e["unsupported_spans"] for e in chosen])
            block[f"ungrounded_share{scope}"] = float((counts > 0).mean()) if len(chosen) else None
            block[f"unsupported_per_answer{scope}"] = float(counts.mean()) if len(chosen) else None
    block["ci95"] = ci
    return block


def score_predictions(predictions: list[str], references: list[str], tasks: list[str] | None = None,
                      tokenize: str = "default", bootstrap: int = 1000, seed: int = 0,
                      notes: list[str] | None = None, questions: list[str] | None = None) -> dict:
    """{"overall": scores, "per_task": {task: scores}, "per_example": [...]}; see the module docstring. With `notes`
    (and `questions`), every example also gets its unsupported spans and the blocks the grounding scores."""
    scorer = Scorer(tokenize)
    per_example = []
    for i, (prediction, reference) in enumerate(zip(predictions, references, strict=True)):
        scores = scorer.score(prediction, reference)
        scores.update(set_f1=set_f1(prediction, reference), gold_unanswerable=says_unanswerable(reference),
                      flagged_unanswerable=says_unanswerable(prediction),
                      prediction_words=len(prediction.split()), reference_words=len(reference.split()))
        if notes is not None:
            spans = unsupported_spans(prediction, notes[i], questions[i] if questions else "")
            scores.update(unsupported=spans, unsupported_spans=len(spans))
        per_example.append(scores)
    bleu = BLEU(tokenize="char" if tokenize.startswith("ko") else "13a")
    corpus = {"bleu": CorpusStatistics(bleu, predictions, references),
              "chrf": CorpusStatistics(CHRF(), predictions, references)}
    resamples = np.random.default_rng(seed).integers(0, 2**31 - 1, size=(bootstrap, max(len(predictions), 1)))
    by_task: dict[str, list[int]] = defaultdict(list)
    for i, task in enumerate(tasks or ["all"] * len(predictions)):
        by_task[task].append(i)
    return {"overall": _block(list(range(len(predictions))), per_example, corpus, resamples),
            "per_task": {task: _block(rows, per_example, corpus, resamples) for task, rows in sorted(by_task.items())},
            "per_example": per_example, "bootstrap": bootstrap, "tokenize": tokenize}


def bertscore_f1(predictions: list[str], references: list[str], encoder: str, layer: int | None = None) -> list[float]:
    """BERTScore F1 per example with a local encoder folder (the optional `bertscore` extra; nothing downloaded)."""
    try:
        from bert_score import score
    except ImportError:
        raise ClintuneError("--bertscore needs the bert-score package (the optional 'bertscore' extra)",
                            fix="pip install 'clintune[bertscore]', or leave out --bertscore") from None
    from transformers import AutoConfig

    layers = layer or AutoConfig.from_pretrained(encoder, local_files_only=True).num_hidden_layers
    _, _, f1 = score(predictions, references, model_type=encoder, num_layers=layers, verbose=False)
    return [float(v) for v in f1]


def read_predictions(path: Path) -> tuple[list[str], list[str], list[str], list[str] | None, list[str] | None]:
    """(predictions, answers, tasks, notes, questions) from JSONL lines with `prediction`, `answer`, and optionally
    `task`, `note` and `question`; notes (and questions) are None unless every line has them."""
    if not path.is_file():
        raise ClintuneError("predictions file not found", where=str(path), fix="give a JSONL file")
    predictions, answers, tasks, notes, questions = [], [], [], [], []
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
        notes.append(row.get("note"))
        questions.append(row.get("question"))
    if not predictions:
        raise ClintuneError("the predictions file is empty", where=str(path), fix="give at least one line")
    have_notes = all(isinstance(n, str) for n in notes)
    have_questions = have_notes and all(isinstance(q, str) for q in questions)
    return predictions, answers, tasks, notes if have_notes else None, questions if have_questions else None
