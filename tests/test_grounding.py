"""The grounding metric: what an answer asserts that its note does not hold, on hand-written notes and answers."""

import json

import pytest

from clintune.evaluate.grounding import unsupported_spans
from clintune.evaluate.scores import score_predictions

NOTE = """PREOPERATIVE DIAGNOSIS: Transitional cell carcinoma of the urinary bladder.
OPERATION: Cystoscopy, transurethral resection of bladder tumor (4.0 cm in diameter), and bladder biopsy.
INDICATIONS: A 59-year-old male with a first tumor five years ago. He has GERD and coronary artery disease.
He was taken to the operating room for TURBT. Prostate was 15 g and benign. Ancef 1 g IV was given.
Renal ultrasound was normal."""


def texts(answer: str, question: str = "") -> list[str]:
    return [span["text"] for span in unsupported_spans(answer, NOTE, question)]


def test_an_invented_drug_and_dose_are_one_medication_span_and_a_real_drug_is_not():
    spans = unsupported_spans("He was given ceftriaxel 500 mg after the TURBT.", NOTE)
    assert spans == [{"text": "ceftriaxel 500 mg", "kind": "medication"}]
    assert texts("He was given Ancef 1 g IV before the TURBT.") == []


@pytest.mark.parametrize(("answer", "expected"), [
    ("The tumor measured 4 cm.", []),  # 4 = 4.0
    ("The first tumor was found 5 years ago.", []),  # 5 = five
    ("The tumor measured 6 cm.", ["6 cm"]),
    ("The procedure was done on hospital day 12.", ["12"]),
    ("The prostate weighed 15 g.", []),
])
def test_numbers_are_checked_by_value(answer, expected):
    assert texts(answer) == expected


def test_abbreviations_need_the_note_and_their_expansions_are_supported():
    assert texts("TURBT stands for transurethral resection of bladder tumor.") == []
    assert texts("GERD stands for gastroesophageal reflux disease.") == []
    assert texts("He also has CAD.") == []  # the note spells out coronary artery disease
    assert texts("He also has CHF.") == ["CHF"]


def test_clinical_terms_missing_from_the_note_are_flagged_but_stems_and_lay_twins_are_not():
    assert texts("He has hypertension and GERD.") == ["hypertension"]
    assert texts("The left kidney had a stone.") == ["left", "stone"]  # the side and the stone are new; renal = kidney
    assert texts("The kidney ultrasound was normal.") == []  # renal
    assert texts("A biopsy of the bladder was taken; the bladder was biopsied.") == []


def test_what_the_question_gives_and_what_the_answer_says_is_missing_are_not_assertions():
    assert texts("The note does not mention the dose of heparin.") == []
    assert texts("Heparin was not given.", question="Was heparin given?") == []
    assert texts("Heparin was given.") == ["Heparin"]


def test_scores_count_ungrounded_answers_apart_for_unanswerable_questions():
    notes = [NOTE] * 4
    answers = ["The tumor was 4.0 cm.", "Ancef 1 g IV.", "The note does not mention heparin.", "The note does not "
               "mention the blood loss."]
    predictions = ["The tumor was 4 cm.", "Vancomycin 1 g IV.", "Heparin 5000 units.",
                   "The note does not mention the blood loss."]
    result = score_predictions(predictions, answers, ["QA"] * 4, bootstrap=10, notes=notes)
    overall = result["overall"]
    assert overall["ungrounded_share"] == 0.5 and overall["unsupported_per_answer"] == 0.5
    assert overall["ungrounded_share_unanswerable"] == 0.5
    assert [e["unsupported_spans"] for e in result["per_example"]] == [0, 1, 1, 0]
    without = score_predictions(predictions, answers, ["QA"] * 4, bootstrap=10)
    assert "ungrounded_share" not in without["overall"]


def test_score_cli_reports_grounding_when_every_line_has_its_note(cli, tmp_path):
    path = tmp_path / "p.jsonl"
    rows = [{"prediction": "Ceftriaxel 2 g.", "answer": "Ancef 1 g IV.", "note": NOTE, "question": "Which antibiotic?",
             "task": "Question Answering"},
            {"prediction": "Ancef 1 g IV.", "answer": "Ancef 1 g IV.", "note": NOTE, "question": "Which antibiotic?",
             "task": "Question Answering"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = cli("score", "--predictions", str(path), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["overall"]["ungrounded_share"] == 0.5
    table = cli("score", "--predictions", str(path))
    assert "ungrounded" in table.stdout and "0.500" in table.stdout
    path.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "note"}) + "\n" for r in rows))
    assert "grounding not scored" in cli("score", "--predictions", str(path)).stdout
