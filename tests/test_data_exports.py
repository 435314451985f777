"""Real exports load: malformed CSV rows skipped and named, repeated and empty notes dropped from notes-only data,
export artefacts cleaned on request, rows reported by their number in the file, and every decision in the card."""

import json

from clintune import api
from clintune.data.load import load_data
from clintune.data.validate import validate
from clintune.errors import ClintuneError

# Row 1 has an unquoted comma (4 fields), row 3 a note over two lines, row 5 is cut off inside its quote.
EXPORT = ('note,question,answer\n'
          'Pt seen for BPH.,Why?,BPH.\n'
          'Pt seen, again,Why?,BPH.\n'
          'Admitted with pneumonia.,Which infection?,Pneumonia.\n'
          '"HPI:, Two\nlines.",What?,Two lines.\n'
          'Admitted with cellulitis.,Which infection?,Cellulitis?\n'
          '"Cut off inside its note,Why')


def test_malformed_rows_are_skipped_and_named_and_later_rows_keep_their_numbers(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(EXPORT)
    loaded = load_data(path)
    assert loaded.dataset["answer"] == ["BPH.", "Pneumonia.", "Two lines.", "Cellulitis?"]
    skipped = loaded.loading["malformed_rows_skipped"]
    assert [(s["row"], s["line"]) for s in skipped] == [(1, 3), (5, 8)]
    assert skipped[0]["reason"].startswith("4 fields where the header has 3")
    assert skipped[1]["reason"].startswith("1 field where the header has 3 (cut off")
    assert any("skipped 2 malformed rows: row 1 (line 3)" in w for w in loaded.warnings)
    # The answer ending in '?' is the file's row 4, not the dataset's position 3.
    report = validate(loaded)
    assert [(p.kind, p.rows) for p in report.problems] == [("answer_question_mark", [4])]


def test_strict_refuses_a_malformed_row_by_number(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(EXPORT)
    try:
        load_data(path, strict=True)
    except ClintuneError as error:
        assert "row 1 (line 3) has 4 fields where the header has 3" in str(error)
        assert "(2 such rows)" in str(error) and "--strict" in str(error)
    else:
        raise AssertionError("--strict loaded a file with malformed rows")


def test_notes_only_data_keeps_one_copy_of_each_nonempty_note(tmp_path):
    notes = ["Note A.", "", "Note B.", "Note A.", "   ", "Note C.", "Note B."]
    path = tmp_path / "notes.csv"
    path.write_text("id,text\n" + "".join(f'{i},"{n}"\n' for i, n in enumerate(notes)))
    loaded = load_data(path, "note=text")
    assert loaded.notes_only and loaded.dataset["note"] == ["Note A.", "Note B.", "Note C."]
    assert loaded.loading["empty_notes_dropped"] == [1, 4]
    assert loaded.loading["repeated_notes_dropped"] == [3, 6]
    assert [loaded.file_row(i) for i in range(3)] == [0, 2, 5]
    assert any("dropped 2 empty notes (rows 1, 4)" in w for w in loaded.warnings)
    assert any("2 rows repeat an earlier one (rows 3, 6)" in w for w in loaded.warnings)
    assert validate(loaded).ok
    # --strict leaves them to validation, which refuses them.
    strict = validate(load_data(path, "note=text", strict=True))
    assert {p.kind: p.rows for p in strict.problems} == {"empty": [1, 4], "duplicates": [3, 6]}


def test_clean_export_undoes_heading_commas_and_entities_only_when_asked(tmp_path):
    rows = [{"note": "HISTORY:, He has &quot;pain&quot;.,PLAN: ,1.  Rest.", "question": "What is &quot;the plan&quot;?",
             "answer": "Rest."}]
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert load_data(path).dataset["note"] == [rows[0]["note"]]
    cleaned = load_data(path, clean_export=True)
    assert cleaned.dataset["note"] == ['HISTORY: He has "pain".\nPLAN:\n1. Rest.']
    assert cleaned.dataset["question"] == ['What is "the plan"?']
    assert cleaned.loading["export_cleaned"] is True


def test_the_data_card_records_what_loading_decided(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(EXPORT.replace("Cellulitis?", "Cellulitis."))
    prepared = api.prepare(path, tmp_path / "prepared", test_size=0, val_size=0)
    card = json.loads((tmp_path / "prepared" / "data_card.json").read_text())
    assert card == prepared.card
    assert [s["row"] for s in card["loading"]["malformed_rows_skipped"]] == [1, 5]
    assert card["loading"]["strict"] is False and card["counts"][0]["rows"] == 4


def test_each_distinct_note_is_scanned_once_and_findings_keep_file_rows(tmp_path):
    notes = ["No identifiers here.", "Seen by Dr. McDevitt today.", "Seen by Dr. McDevitt today.",
             "Seen by Dr. McDevitt today.", "Follow up on 03/14/2021."]
    path = tmp_path / "notes.jsonl"
    path.write_text("".join(json.dumps({"note": n}) + "\n" for n in notes))
    scan = api.scan_phi(path)
    assert [(scan.file_row(f), f.cls) for f in scan.findings] == [(1, "name"), (4, "date")]


def test_the_cli_names_every_decision_and_strict_exits_2(tmp_path, cli):
    path = tmp_path / "export.csv"
    path.write_text(EXPORT.replace("Cellulitis?", "Cellulitis."))
    result = cli("data", "validate", str(path))
    assert result.returncode == 0, result.stderr
    assert "skipped 2 malformed rows: row 1 (line 3)" in result.stderr and "4 question-answer rows" in result.stdout
    strict = cli("data", "validate", "--strict", str(path))
    assert strict.returncode == 2 and strict.stderr.strip().splitlines()[-1].startswith("error: row 1 (line 3)")


def test_notes_only_data_with_only_empty_notes_is_refused_in_one_line(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text('id,text\n0,""\n1,"  "\n')
    try:
        load_data(path, "note=text")
    except ClintuneError as error:
        assert "no note is left: every note is empty" in str(error)
    else:
        raise AssertionError("loaded data with no note in it")
