"""Reference metrics: ROUGE-L from rouge-score, and SQuAD-style token F1 and exact match, per task and overall."""

from __future__ import annotations

import re
import string
from collections import Counter, defaultdict
from statistics import mean

from rouge_score import rouge_scorer

_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lowercase, drop punctuation and articles, collapse whitespace."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def token_f1(prediction: str, reference: str) -> float:
    pred, ref = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, reference: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(reference))


class Scorer:
    def __init__(self):
        self._rouge = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)

    def score(self, prediction: str, reference: str) -> dict[str, float]:
        return {
            "rouge_l": self._rouge.score(reference, prediction)["rougeL"].fmeasure,
            "token_f1": token_f1(prediction, reference),
            "exact_match": exact_match(prediction, reference),
        }


def summarize(per_example: list[dict[str, float]], tasks: list[str]) -> dict:
    """Means overall and per task; each block carries its example count `n`."""
    def block(items: list[dict[str, float]]) -> dict:
        keys = items[0].keys() if items else ()
        return {"n": len(items), **{k: mean(item[k] for item in items) for k in keys}}

    by_task: dict[str, list[dict[str, float]]] = defaultdict(list)
    for scores, task in zip(per_example, tasks, strict=True):
        by_task[task].append(scores)
    return {"overall": block(per_example), "per_task": {t: block(v) for t, v in sorted(by_task.items())}}
