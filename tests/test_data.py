import json
import re
from collections import Counter

import pytest

from clintune.data import operative_facts
from clintune.data.clinical_facts import ABBREVIATIONS, COMORBIDITIES, DIAGNOSES
from clintune.data.generate import NOTE_KINDS, generate_rows
from clintune.data.phi import scan_rows
from clintune.data.questions import NOT_IN_NOTE
from clintune.data.schema import COLUMNS, TASKS

EXPANSIONS = {**ABBREVIATIONS, **{c.abbr: c.name for c in COMORBIDITIES}, **{d.abbr: d.name for d in DIAGNOSES}}


def test_generator_is_deterministic_balanced_and_in_the_asclepius_schema(tmp_path, cli):
    rows = generate_rows(80, seed=3)
    assert rows == generate_rows(80, seed=3)
    assert rows != generate_rows(80, seed=4)
    assert all(tuple(row) == COLUMNS for row in rows)
    counts = Counter(row["task"] for row in rows)  # tasks cycle; a twin note repeats its task once
    assert set(counts) == set(TASKS) and all(9 <= n <= 11 for n in counts.values())
    for row in rows:
        assert row["answer"].strip() and not row["answer"].endswith("?")
    assert sum(row["note"].lower().startswith("discharge summary") for row in rows) > 5  # several kinds of note
    assert sum(row["note"].startswith("PREOPERATIVE DIAGNOSIS") for row in rows) > 10
    only = tmp_path / "operative.jsonl"
    assert cli("data", "generate", "--n", "16", "--kind", "operative note", "--out", str(only)).returncode == 0
    assert all(json.loads(line)["note"].startswith("PREOPERATIVE") for line in only.read_text().splitlines())
    unknown = cli("data", "generate", "--n", "4", "--kind", "radiology", "--out", str(tmp_path / "x.jsonl"))
    assert unknown.returncode == 2 and "unknown kind of note 'radiology'" in unknown.stderr
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path in (first, second):
        assert cli("data", "generate", "--n", "40", "--seed", "9", "--out", str(path)).returncode == 0
    assert first.read_bytes() == second.read_bytes()
    assert cli("data", "validate", str(first)).returncode == 0


def test_about_ten_percent_unanswerable_and_never_a_summary_a_paraphrase_or_a_quoted_pronoun():
    rows = generate_rows(2000, seed=2)
    unanswerable = [row for row in rows if row["answer"].startswith(NOT_IN_NOTE)]
    assert 0.07 < len(unanswerable) / len(rows) < 0.13
    assert {row["task"] for row in unanswerable} == set(TASKS) - {"Summarization", "Paraphrasing",
                                                                  "Coreference Resolution"}


def test_an_unanswerable_operative_question_comes_with_its_twin_note_that_answers_it():
    from clintune.evaluate.grounding import unsupported_spans

    rows = generate_rows(3000, seed=6)
    by_patient = {}
    for row in rows:
        by_patient.setdefault(row["patient_id"], []).append(row)
    twins = [group for group in by_patient.values() if len(group) == 2]
    assert len(twins) > 30 and all(len(group) <= 2 for group in by_patient.values())
    for lacking, holding in twins:
        assert lacking["question"] == holding["question"] and lacking["task"] == holding["task"]
        assert lacking["answer"].startswith(NOT_IN_NOTE) and not holding["answer"].startswith(NOT_IN_NOTE)
        assert lacking["note"] != holding["note"] and lacking["note"].startswith("PREOPERATIVE DIAGNOSIS")
        assert unsupported_spans(holding["answer"], holding["note"], holding["question"]) == [], holding
        changed = set(holding["note"].splitlines()) ^ set(lacking["note"].splitlines())
        assert len(changed) <= 2  # the two notes differ in the slot's line, nowhere else


def test_operative_notes_ask_the_same_question_of_notes_that_hold_the_answer_and_notes_that_do_not():
    rows = generate_rows(3000, seed=5, kinds=("operative note",))
    answered = {row["question"] for row in rows if not row["answer"].startswith(NOT_IN_NOTE)}
    unanswerable = [row for row in rows if row["answer"].startswith(NOT_IN_NOTE)]
    both = [row for row in unanswerable if row["question"] in answered]
    assert len(both) > 0.6 * len(unanswerable)
    blood_loss = [row for row in unanswerable if row["question"] == "What was the estimated blood loss?"]
    assert blood_loss and all("EBL" not in r["note"] and "BLOOD LOSS" not in r["note"] for r in blood_loss)
    for row in unanswerable:
        if row["question"].startswith("How long has the patient had"):
            assert "history of" not in row["note"]
        if row["task"] == "Abbreviation Expansion":
            abbr = row["answer"].removeprefix(f"{NOT_IN_NOTE} the abbreviation ").rstrip(".")
            assert not re.search(rf"(?<!\w){re.escape(abbr)}(?!\w)", row["note"])


def test_discharge_summaries_have_their_structure_and_vary_in_length():
    rows = generate_rows(500, seed=4, kinds=("discharge summary",))
    for row in rows:
        for heading in ("Hospital Course:", "Procedures:", "Discharge Diagnoses:", "Discharge Medications:"):
            assert heading in row["note"]
        assert re.search(r"\(HD \d+\)", row["note"])  # procedures carry their hospital day
        assert re.search(r"\d+ (mg|g|mcg|units)", row["note"])  # medications carry doses
    lengths = sorted(len(row["note"]) for row in rows)
    assert lengths[0] < 800 and lengths[-1] > 1800


def test_discharge_gold_answers_are_grounded_in_their_note():
    checked = Counter()
    for row in generate_rows(1500, seed=1, kinds=("discharge summary",)):
        note, question, answer = row["note"], row["question"], row["answer"]
        if answer.startswith(NOT_IN_NOTE):
            continue
        task = row["task"]
        if task == "Abbreviation Expansion":
            abbr, expansion = answer.removesuffix(".").split(" stands for ")
            assert re.search(rf"(?<![\w/']){re.escape(abbr)}(?![\w/'])", note), (abbr, note)
            assert EXPANSIONS[abbr] == expansion
        elif task == "Temporal Information Extraction":
            number = re.findall(r"\d+", answer)[-1]
            assert re.search(rf"(HD |x){number}\b", note), (answer, note)
        elif task in ("Coreference Resolution", "Paraphrasing"):
            quoted = re.search(r"'([^']{20,})'", question)
            if quoted:
                assert quoted.group(1) in note
        elif task == "Named Entity Recognition":
            items = re.split(r", | and ", answer.removesuffix("."))
            for item in items:
                assert item.lower() in note.lower(), (item, note)
        elif task == "Relation Extraction" and answer.startswith("The patient was started on"):
            drug = answer.removeprefix("The patient was started on ").split(" for ")[0]
            assert f"Started on {drug}" in note
        checked[task] += 1
    assert set(checked) == set(TASKS)


def test_generated_notes_carry_no_identifiers():
    # (How fast the generator is, benchmarks/data_load.py measures: speed is a benchmark, never a test.)
    rows = generate_rows(3000, seed=6)
    assert list(scan_rows(rows, ["note", "question", "answer"])) == []


def test_notes_only_rows(tmp_path, cli):
    rows = generate_rows(5, seed=0, notes_only=True)
    assert all(set(row) == {"patient_id", "note"} for row in rows)
    path = tmp_path / "notes.csv"
    assert cli("data", "generate", "--n", "5", "--notes-only", "--out", str(path)).returncode == 0
    result = cli("data", "validate", str(path))
    assert result.returncode == 0 and "notes (stage-1 pretraining)" in result.stdout


def test_every_kind_of_note_has_gold_answers_its_note_supports():
    # The grounding metric finds nothing unsupported in an answerable gold answer of any kind of note, and a quoted
    # sentence is the note's own. Paraphrases are left out: lay words for a clinical term ("narrowed heart arteries"
    # for CAD) are their point, and the metric cannot know them.
    from clintune.evaluate.grounding import unsupported_spans

    for kind in NOTE_KINDS:
        rows = generate_rows(800, seed=7, kinds=(kind,))
        assert {row["task"] for row in rows} == set(TASKS)
        for row in rows:
            if row["answer"].startswith(NOT_IN_NOTE) or row["task"] == "Paraphrasing":
                continue
            assert unsupported_spans(row["answer"], row["note"], row["question"]) == [], (kind, row)
            for quoted in re.findall(r"'([^']{25,})'", row["question"]):
                assert quoted in row["note"], (kind, quoted)


def test_operative_notes_read_like_dictated_operations():
    rows = generate_rows(400, seed=5, kinds=("operative note",))
    for row in rows:
        note = row["note"]
        for heading in ("PREOPERATIVE DIAGNOSIS:", "POSTOPERATIVE DIAGNOSIS:", "ANESTHESIA:", "COMPLICATIONS:"):
            assert heading in note
        blood_loss = re.search(r"^(EBL|ESTIMATED BLOOD LOSS): \d+ mL\.$", note, re.MULTILINE)
        assert blood_loss or "blood loss" not in row["answer"] or row["answer"].startswith(NOT_IN_NOTE)
        assert re.search(r"\d+-year-old|\d+ y/o", note) and "hospital day" not in note
        if row["task"] == "Abbreviation Expansion" and not row["answer"].startswith(NOT_IN_NOTE):
            abbr, expansion = row["answer"].removesuffix(".").split(" stands for ")
            assert re.search(rf"(?<![\w/]){re.escape(abbr)}(?![\w/])", note), (abbr, note)
            assert operative_facts.ABBREVIATIONS[abbr] == expansion
    lengths = sorted(len(row["note"]) for row in rows)
    assert lengths[0] < 900 and lengths[-1] > 1300
    assert 0.6 < sum(bool(re.search(r"^(EBL|ESTIMATED BLOOD LOSS):", r["note"], re.M)) for r in rows) / len(rows) < 0.95
    with pytest.raises(ValueError, match="unknown kind of note"):
        generate_rows(1, kinds=("radiology letter",))
