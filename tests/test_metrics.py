import pytest
from rouge_score import rouge_scorer

from clintune.evaluate.metrics import Scorer, exact_match, normalize_answer, summarize, token_f1


def test_squad_normalisation_and_token_f1():
    assert normalize_answer("The  Heparin, drip!") == "heparin drip"
    assert token_f1("heparin drip", "The heparin drip.") == 1.0
    assert token_f1("heparin", "heparin drip") == pytest.approx(2 / 3)
    assert token_f1("aspirin", "heparin") == 0.0
    assert exact_match("An aspirin.", "aspirin") == 1.0


def test_rouge_l_equals_the_reference_library():
    pred, ref = "The patient was started on heparin.", "Heparin infusion was started on admission."
    expected = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True).score(ref, pred)["rougeL"].fmeasure
    assert Scorer().score(pred, ref)["rouge_l"] == expected


def test_summary_counts_examples_overall_and_per_task():
    scores = [{"rouge_l": 1.0}, {"rouge_l": 0.0}, {"rouge_l": 0.5}]
    summary = summarize(scores, ["A", "B", "A"])
    assert summary["overall"] == {"n": 3, "rouge_l": 0.5}
    assert summary["per_task"]["A"] == {"n": 2, "rouge_l": 0.75}
