import pytest
from rouge_score import rouge_scorer

from clintune.evaluate.metrics import Scorer, exact_match, normalize_answer, token_f1


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
