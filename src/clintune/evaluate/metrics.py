"""Reference metrics for one prediction against its gold answer.

ROUGE comes from rouge-score (BLEU and chrF, which are corpus-level, from sacrebleu in evaluate/scores.py); token F1
and exact match use SQuAD's normalisation; list answers also get a set F1 over their items; an answer that says the
note lacks the information is recognised by its wording (as the Asclepius teacher was told to write it).

ROUGE tokenisation: rouge-score's own tokenizer keeps only [a-z0-9], so Korean (or any non-Latin) text scores 0.
`ko-char` compares characters (spaces dropped); `ko-morph` compares morphemes when kiwipiepy is installed.
"""

from __future__ import annotations

import re
import string
from collections import Counter

from rouge_score import rouge_scorer

from clintune.errors import ClintuneError

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)
_LIST_SPLIT = re.compile(r"\s*(?:[,;\n]|\band\b)\s*", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")
UNANSWERABLE = re.compile(
    r"(does not (?:mention|contain|state|specify|provide|include|say|report|document|indicate)|not (?:mentioned|"
    r"stated|specified|provided|documented|available|reported|included|indicated) in|cannot be (?:answered|"
    r"determined|found)|no (?:information|mention) (?:about|of|on|regarding)|unable to (?:determine|answer)|"
    r"is not (?:possible|known) (?:to|from))", re.IGNORECASE)
TOKENIZERS = ("default", "ko-char", "ko-morph")


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lowercase, drop punctuation and articles, collapse whitespace."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


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


def list_items(text: str) -> list[str]:
    """The items of a list answer ("aspirin, heparin and warfarin", bullets, lines), normalised."""
    lines = [_BULLET.sub("", line) for line in text.splitlines()]
    items = [normalize_answer(part) for line in lines for part in _LIST_SPLIT.split(line)]
    return [item for item in dict.fromkeys(items) if item]


def set_f1(prediction: str, reference: str) -> float | None:
    """F1 between the item sets; None when the gold answer is not a list (fewer than 2 items)."""
    gold = set(list_items(reference))
    if len(gold) < 2:
        return None
    predicted = set(list_items(prediction))
    common = len(gold & predicted)
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def says_unanswerable(text: str) -> bool:
    return bool(UNANSWERABLE.search(text))


class _KoreanCharacters:
    def tokenize(self, text: str) -> list[str]:
        return [ch for ch in text.lower() if not ch.isspace() and ch not in _PUNCTUATION]


class _KoreanMorphemes:
    def __init__(self):
        try:
            from kiwipiepy import Kiwi
        except ImportError:
            raise ClintuneError("--tokenize ko-morph needs the kiwipiepy package",
                                fix="pip install kiwipiepy, or use --tokenize ko-char") from None
        self.kiwi = Kiwi()

    def tokenize(self, text: str) -> list[str]:
        return [token.form for token in self.kiwi.tokenize(text)]


def rouge_tokenizer(name: str):
    if name not in TOKENIZERS:
        raise ClintuneError(f"unknown ROUGE tokenisation '{name}'", fix=f"choose one of {', '.join(TOKENIZERS)}")
    return {"default": lambda: None, "ko-char": _KoreanCharacters, "ko-morph": _KoreanMorphemes}[name]()


class Scorer:
    """Per-example scores; `tokenize` picks the ROUGE tokenisation (see the module docstring)."""

    def __init__(self, tokenize: str = "default"):
        tokenizer = rouge_tokenizer(tokenize)
        # Stemming is for English; with a custom tokenizer rouge-score ignores it anyway.
        self._rouge = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=tokenize == "default",
                                               tokenizer=tokenizer)

    def score(self, prediction: str, reference: str) -> dict[str, float]:
        rouge = self._rouge.score(reference, prediction)
        return {
            "rouge1": rouge["rouge1"].fmeasure,
            "rouge2": rouge["rouge2"].fmeasure,
            "rouge_l": rouge["rougeL"].fmeasure,
            "token_f1": token_f1(prediction, reference),
            "exact_match": exact_match(prediction, reference),
        }
