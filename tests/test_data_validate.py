import json

import pytest
from typer.testing import CliRunner

from clintune.cli import app
from clintune.data.generate import generate_rows
from clintune.data.save import save_rows

GOOD = generate_rows(8, seed=2)


def _with(row_changes: dict[int, dict], drop: str | None = None) -> list[dict]:
    rows = [dict(row) for row in GOOD]
    for index, change in row_changes.items():
        rows[index].update(change)
    if drop:
        for row in rows:
            row.pop(drop)
    return rows


CASES = {
    "missing columns": (_with({}, drop="answer"), "error: missing columns: answer"),
    "empty": (_with({2: {"answer": "   "}, 5: {"question": ""}}),
              "error: empty or whitespace-only fields [question, answer]: 2 rows (rows 2, 5)"),
    "non-text": (_with({3: {"answer": 42}}), "error: values that are not text [answer]: 1 row (row 3)"),
    "duplicates": (_with({6: GOOD[1]}), "error: duplicate rows (same note, question and answer): 1 row (row 6)"),
    "unknown task": (_with({4: {"task": "Triage"}}), "warning: unknown task labels ['Triage']: 1 row (row 4)"),
    "question mark": (_with({1: {"answer": "Could you clarify?"}}), "error: answers ending in '?': 1 row (row 1)"),
    "self reference": (_with({0: {"answer": "As an AI language model, I cannot say."}}),
                       "error: model self-reference phrases in a question or answer: 1 row (row 0)"),
    "too long": (_with({7: {"note": "x" * 20_001}}), "error: notes longer than 16,000 characters: 1 row (row 7)"),
}


@pytest.mark.parametrize("case", CASES)
def test_each_problem_kind_gives_exit_2_and_its_line(tmp_path, case):
    rows, expected = CASES[case]
    path = tmp_path / "bad.jsonl"
    save_rows(rows, path)
    result = CliRunner().invoke(app, ["data", "validate", str(path)])
    assert expected in result.output
    assert result.exit_code == (0 if case == "unknown task" else 2)  # an unknown label is only a warning


def test_undecodable_bytes_are_reported_by_row_not_a_crash(tmp_path, cli):
    path = tmp_path / "latin1.csv"
    save_rows(GOOD, path)
    word = GOOD[0]["note"].split()[0].encode()
    raw = path.read_bytes().replace(word, word[:2] + b"\xe4" + word[3:], 1)  # a Latin-1 byte in the first note
    path.write_bytes(raw)
    result = cli("data", "validate", str(path))
    assert result.returncode == 2
    assert "error: undecodable bytes (shown as U+FFFD): 1 row (row 0)" in result.stderr
    assert "Traceback" not in result.stderr


def test_json_report_and_a_good_file(tmp_path):
    path = tmp_path / "good.parquet"
    save_rows(GOOD, path)
    result = CliRunner().invoke(app, ["data", "validate", str(path), "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["ok"] is True
    save_rows(_with({2: {"answer": ""}}), path)
    result = CliRunner().invoke(app, ["data", "validate", str(path), "--json"])
    report = json.loads(result.output)
    assert result.exit_code == 2 and report["problems"][0]["kind"] == "empty" and report["problems"][0]["rows"] == [2]


def test_a_missing_file_is_one_line_and_exit_2(cli, tmp_path):
    result = cli("data", "validate", str(tmp_path / "nope.csv"))
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "data file not found" in result.stderr
