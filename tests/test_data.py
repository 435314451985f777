from collections import Counter

from datasets import Dataset

from clintune.data.generate import generate_rows
from clintune.data.schema import COLUMNS, TASKS
from clintune.data.split import split_by_patient


def test_generator_is_deterministic_balanced_and_in_the_asclepius_schema():
    rows = generate_rows(80, seed=3)
    assert rows == generate_rows(80, seed=3)
    assert rows != generate_rows(80, seed=4)
    assert all(tuple(row) == COLUMNS for row in rows)
    assert Counter(row["task"] for row in rows) == {task: 10 for task in TASKS}
    for row in rows:
        assert row["note"].lower().startswith("discharge summary")
        assert row["answer"].strip() and not row["answer"].endswith("?")


def test_gold_answers_are_grounded_in_their_note():
    for row in generate_rows(200, seed=1):
        if row["task"] == "Abbreviation Expansion":
            abbr = row["answer"].split(" stands for ")[0]
            assert f" {abbr}" in row["note"]
        if row["task"] == "Temporal Information Extraction" and "hospital day" in row["answer"]:
            day = row["answer"].rstrip(".").split()[-1]
            assert f"day {day}" in row["note"]
        if row["task"] == "Coreference Resolution":
            drug = row["answer"].split("'It' refers to ")[1].split()[0]
            assert f"Started on {drug}" in row["note"]


def test_split_keeps_each_patient_on_one_side_and_holds_out_per_task():
    rows = generate_rows(160, seed=0)
    rows += [{**row, "question": row["question"] + " (again)"} for row in rows[:40]]  # patients with two rows
    train, test = split_by_patient(Dataset.from_list(rows), test_per_task=5, seed=0)
    assert not set(train["patient_id"]) & set(test["patient_id"])
    assert len(train) + len(test) == len(rows)
    assert all(count >= 5 for count in Counter(test["task"]).values())
    assert set(test["task"]) == set(TASKS)
    again = split_by_patient(Dataset.from_list(rows), test_per_task=5, seed=0)[1]
    assert again["patient_id"] == test["patient_id"]
