import re
from collections import Counter

from clintune.data.clinical_facts import ABBREVIATIONS, COMORBIDITIES, DIAGNOSES
from clintune.data.generate import generate_rows
from clintune.data.phi import scan_rows
from clintune.data.questions import NOT_IN_NOTE
from clintune.data.schema import COLUMNS, TASKS

EXPANSIONS = {**ABBREVIATIONS, **{c.abbr: c.name for c in COMORBIDITIES}, **{d.abbr: d.name for d in DIAGNOSES}}


def test_generator_is_deterministic_balanced_and_in_the_asclepius_schema(tmp_path, cli):
    rows = generate_rows(80, seed=3)
    assert rows == generate_rows(80, seed=3)
    assert rows != generate_rows(80, seed=4)
    assert all(tuple(row) == COLUMNS for row in rows)
    assert Counter(row["task"] for row in rows) == {task: 10 for task in TASKS}
    for row in rows:
        assert row["note"].lower().startswith("discharge summary")
        assert row["answer"].strip() and not row["answer"].endswith("?")
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path in (first, second):
        assert cli("data", "generate", "--n", "40", "--seed", "9", "--out", str(path)).returncode == 0
    assert first.read_bytes() == second.read_bytes()
    assert cli("data", "validate", str(first)).returncode == 0


def test_every_task_and_about_ten_percent_unanswerable():
    rows = generate_rows(2000, seed=2)
    unanswerable = [row for row in rows if row["answer"].startswith(NOT_IN_NOTE) or "does not appear" in row["answer"]]
    assert 0.07 < len(unanswerable) / len(rows) < 0.13
    assert {row["task"] for row in unanswerable} == set(TASKS)


def test_notes_have_the_discharge_summary_structure_and_vary_in_length():
    rows = generate_rows(500, seed=4)
    for row in rows:
        for heading in ("Hospital Course:", "Procedures:", "Discharge Diagnoses:", "Discharge Medications:"):
            assert heading in row["note"]
        assert re.search(r"\(HD \d+\)", row["note"])  # procedures carry their hospital day
        assert re.search(r"\d+ (mg|g|mcg|units)", row["note"])  # medications carry doses
    lengths = sorted(len(row["note"]) for row in rows)
    assert lengths[0] < 800 and lengths[-1] > 1800


def test_gold_answers_are_grounded_in_their_note():
    checked = Counter()
    for row in generate_rows(1500, seed=1):
        note, question, answer = row["note"], row["question"], row["answer"]
        if answer.startswith(NOT_IN_NOTE) or "does not appear" in answer:
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
