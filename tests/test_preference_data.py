"""Preference files through the data layer: every shape TRL and clintune use, one-line errors, the identifier scan."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clintune.data.preference import Renderers, load_preference_file
from clintune.errors import ClintuneError

RENDER = Renderers(lambda note, question: f"NOTE {note} | Q {question} | A:",
                   lambda messages: "".join(f"<{m['role']}>{m['content']}" for m in messages) + "<assistant>")
NOTE = "67M admitted with pneumonia, treated with ceftriaxone 1 g IV daily."


def _write(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_every_dpo_shape_becomes_the_rendered_prompt_and_the_answers(tmp_path):
    shapes = {
        "clintune": {"note": NOTE, "question": "Which antibiotic?", "chosen": "Ceftriaxone.", "rejected": "Viperin.",
                     "made_by": {"method": "judge", "judge_model": "gpt-4o", "scores": [4, 1]}},
        "standard": {"prompt": "NOTE x | Q y | A:", "chosen": "Ceftriaxone.", "rejected": "Viperin."},
        "conversational": {"prompt": [{"role": "user", "content": "Which antibiotic?"}],
                           "chosen": [{"role": "assistant", "content": "Ceftriaxone."}],
                           "rejected": [{"role": "assistant", "content": "Viperin."}]},
    }
    implicit = {"chosen": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Which?"},
                           {"role": "assistant", "content": "Ceftriaxone."}],
                "rejected": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Which?"},
                             {"role": "assistant", "content": "Viperin."}]}
    expected = {"clintune": f"NOTE {NOTE} | Q Which antibiotic? | A:", "standard": "NOTE x | Q y | A:",
                "conversational": "<user>Which antibiotic?<assistant>"}
    for shape, row in shapes.items():
        data = load_preference_file(_write(tmp_path / f"{shape}.jsonl", [row]), "dpo", RENDER)
        assert data.shape == shape
        assert data.rows[0]["prompt"] == expected[shape]
        assert (data.rows[0]["chosen"], data.rows[0]["rejected"]) == ("Ceftriaxone.", "Viperin.")
    data = load_preference_file(_write(tmp_path / "implicit.jsonl", [implicit]), "dpo", RENDER)
    assert data.rows[0]["prompt"] == "<system>Be brief.<user>Which?<assistant>"
    assert load_preference_file(tmp_path / "clintune.jsonl", "dpo", RENDER).card()["made_by"] == ["judge (gpt-4o)"]


def test_kto_rows_in_jsonl_csv_and_parquet(tmp_path):
    rows = [{"prompt": "P1", "completion": "good", "label": True},
            {"prompt": "P2", "completion": "bad", "label": False}]
    (tmp_path / "k.csv").write_text("prompt,completion,label\nP1,good,true\nP2,bad,False\n")
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "k.parquet")
    for path in (_write(tmp_path / "k.jsonl", rows), tmp_path / "k.csv", tmp_path / "k.parquet"):
        loaded = load_preference_file(path, "kto", RENDER).rows
        assert [(r["prompt"], r["completion"], r["label"]) for r in loaded] == [("P1", "good", True),
                                                                               ("P2", "bad", False)]


@pytest.mark.parametrize(("rows", "stage", "said", "where"), [
    ([{"prompt": "p", "chosen": "a", "rejected": "b"}, {"prompt": "p", "chosen": "a"}], "dpo",
     "field 'rejected' must be text and is missing", ":2"),
    ([{"prompt": "p", "chosen": "a", "rejectd": "b"}], "dpo", "unknown field 'rejectd' (did you mean 'rejected'?)",
     ":1"),
    ([{"prompt": "p", "chosen": "same", "rejected": "same "}], "dpo", "chosen and rejected are the same answer", ":1"),
    ([{"prompt": "p", "completion": "a", "label": "yes"}], "kto", "field 'label' must be true", ":1"),
    ([{"prompt": "p", "completion": "a", "label": True}], "dpo", "these rows hold completion (rows for kto)", ":1"),
    ([{"prompt": "p", "chosen": "   ", "rejected": "b"}], "dpo", "field 'chosen' is empty", ":1"),
    ([{"chosen": [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "a"}],
       "rejected": [{"role": "user", "content": "q2"}, {"role": "assistant", "content": "b"}]}], "dpo",
     "must share every message before the answer", ":1"),
    ([{"prompt": [{"role": "user", "content": "q"}], "chosen": [{"role": "assistant", "content": "a"}],
       "rejected": [{"role": "doctor", "content": "b"}]}], "dpo", "needs a role (system, user or assistant)", ":1"),
])
def test_a_bad_row_is_one_line_naming_the_file_and_row(tmp_path, rows, stage, said, where):
    path = _write(tmp_path / "p.jsonl", rows)
    with pytest.raises(ClintuneError) as raised:
        load_preference_file(path, stage, RENDER)
    line = raised.value.one_line()
    assert said in line and f"{path}{where}" in line and "\n" not in line


def test_identifiers_in_a_preference_file_are_refused_without_a_reason_and_never_printed(tmp_path):
    phone = "(617) 555-0143"
    path = _write(tmp_path / "p.jsonl", [{"note": NOTE, "question": "Who to call?", "chosen": f"Call {phone}.",
                                          "rejected": "Nobody."}])
    with pytest.raises(ClintuneError) as raised:
        load_preference_file(path, "dpo", RENDER)
    line = raised.value.one_line()
    assert "1 preference rows contain patient identifiers (phone 1)" in line and "555" not in line
    allowed = load_preference_file(path, "dpo", RENDER, allow_phi="IRB 2026-17")
    assert allowed.scan["by_class"] == {"phone": 1} and allowed.scan["allowed_with_reason"] == "IRB 2026-17"


def test_unreadable_files_are_one_line(tmp_path):
    (tmp_path / "p.jsonl").write_text('{"prompt": "p", "chosen": "a", "rejected": "b"}\n{oops\n')
    (tmp_path / "p.txt").write_text("x")
    for path, said in ((tmp_path / "p.jsonl", "invalid JSON"), (tmp_path / "p.txt", "this is '.txt'"),
                       (tmp_path / "none.jsonl", "does not exist")):
        with pytest.raises(ClintuneError, match=said):
            load_preference_file(path, "dpo", RENDER)


def test_data_validate_pairs_checks_a_file_before_training(cli, tmp_path):
    path = _write(tmp_path / "p.jsonl", [{"note": NOTE, "question": "Which antibiotic?", "chosen": "Ceftriaxone.",
                                          "rejected": "Viperin.", "made_by": {"method": "gold"}}])
    usable = cli("data", "validate-pairs", str(path))
    assert usable.returncode == 0, usable.stderr
    assert "1 dpo rows (clintune shape; made by gold; no identifiers)" in usable.stdout and "usable" in usable.stdout
    phone = "(617) 555-0143"
    _write(path, [{"prompt": "Who to call?", "completion": f"Call {phone}.", "label": True}])
    refused = cli("data", "validate-pairs", str(path), "--stage", "kto")
    assert refused.returncode == 2 and "patient identifiers (phone 1)" in refused.stderr
    assert "555" not in refused.stderr + refused.stdout and "Traceback" not in refused.stderr
