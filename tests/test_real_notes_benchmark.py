"""The real-notes benchmark's own parts, without the real notes (tests never read ../shared): our question set, and
how it joins questions to an MTSamples-shaped export."""

import csv
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from clintune.data.schema import TASKS
from clintune.errors import ClintuneError
from clintune.evaluate.metrics import says_unanswerable

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
from real_notes import QUESTIONS, benchmark_rows  # noqa: E402


def test_the_question_set_covers_every_task_with_enough_unanswerable_questions():
    rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines()]
    assert len(rows) >= 64 and set(Counter(r["task"] for r in rows)) == set(TASKS)
    assert sum(r["unanswerable"] for r in rows) >= 0.1 * len(rows)
    for row in rows:
        assert says_unanswerable(row["answer"]) == row["unanswerable"], row  # the metric counts them apart
        assert bool(row["evidence"]) != row["unanswerable"]  # every answer quotes its support, or has none
        assert isinstance(row["row"], int) and row["question"].strip() and row["answer"].strip()


def test_questions_join_their_cleaned_notes_and_a_different_file_is_refused(tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"row": 1, "sample_name": "Vasectomy", "task": "Question Answering",
                                     "question": "EBL?", "answer": "Minimal.", "unanswerable": False,
                                     "evidence": "ESTIMATED BLOOD LOSS: Minimal."}) + "\n")
    export = tmp_path / "mtsamples.csv"
    with export.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["", "description", "medical_specialty", "sample_name", "transcription", "keywords"])
        writer.writerow([0, "d", "Urology", "Other", "", ""])  # an empty transcription, as real exports have
        writer.writerow([1, "d", "Urology", "Vasectomy", "PROCEDURE:, Vasectomy.,ESTIMATED BLOOD LOSS: , Minimal.",
                         "k"])
    with export.open("a") as handle:
        handle.write('2,"cut off inside a quoted field')  # the export's last row is cut off
    rows = benchmark_rows(export, questions)
    assert rows == [{"note": "PROCEDURE: Vasectomy.\nESTIMATED BLOOD LOSS: Minimal.", "question": "EBL?",
                     "answer": "Minimal.", "task": "Question Answering"}]
    questions.write_text(questions.read_text().replace("Minimal.\"}", "None.\"}"))
    with pytest.raises(ClintuneError, match="row 1 .* is not the note our question was written on"):
        benchmark_rows(export, questions)
