import json

import pandas as pd
import pytest
from datasets import Dataset

from clintune.data.generate import generate_rows
from clintune.data.load import load_data, open_dataset
from clintune.data.save import save_rows
from clintune.errors import ClintuneError

ROWS = generate_rows(24, seed=5)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".json", ".parquet"])
def test_every_written_format_round_trips(tmp_path, suffix):
    path = tmp_path / f"rows{suffix}"
    save_rows(ROWS, path)
    dataset = open_dataset(path)
    assert isinstance(dataset, Dataset)
    assert dataset.to_list() == ROWS


def test_tsv_and_save_to_disk_folders_load(tmp_path):
    pd.DataFrame(ROWS).to_csv(tmp_path / "rows.tsv", sep="\t", index=False)
    assert open_dataset(tmp_path / "rows.tsv").to_list() == ROWS
    Dataset.from_list(ROWS).save_to_disk(str(tmp_path / "saved"))
    loaded = load_data(tmp_path / "saved")
    assert loaded.dataset.to_list() == ROWS and loaded.content_hash.startswith("fingerprint:")


def test_the_asclepius_layout_with_the_patient_alias_loads_with_a_warning(tmp_path):
    frame = pd.DataFrame(ROWS).rename(columns={"note": "patient"})
    frame.to_csv(tmp_path / "synthetic.csv", index=False)
    loaded = load_data(tmp_path / "synthetic.csv")
    assert loaded.dataset.column_names == ["patient_id", "note", "question", "answer", "task"]
    assert loaded.dataset["note"] == [row["note"] for row in ROWS]
    assert any("'patient' read as 'note'" in w for w in loaded.warnings)


def test_notes_only_from_a_note_column_a_txt_file_and_a_folder(tmp_path):
    save_rows([{"note": row["note"]} for row in ROWS[:3]], tmp_path / "notes.jsonl")
    loaded = load_data(tmp_path / "notes.jsonl")
    assert loaded.notes_only and loaded.dataset.column_names == ["patient_id", "note"]
    folder = tmp_path / "txt"
    folder.mkdir()
    for i, row in enumerate(ROWS[:3]):
        (folder / f"patient{i}.txt").write_text(row["note"])
    loaded = load_data(folder)
    assert loaded.notes_only and loaded.dataset["note"] == [row["note"] for row in ROWS[:3]]
    assert loaded.dataset["patient_id"] == ["patient0", "patient1", "patient2"]
    assert load_data(folder / "patient1.txt").dataset["note"] == [ROWS[1]["note"]]


def test_alpaca_and_messages_data_through_a_column_mapping(tmp_path):
    alpaca = [{"instruction": r["question"], "input": r["note"], "output": r["answer"]} for r in ROWS[:4]]
    save_rows(alpaca, tmp_path / "alpaca.jsonl")
    loaded = load_data(tmp_path / "alpaca.jsonl", "alpaca")
    assert loaded.dataset["question"] == [r["question"] for r in ROWS[:4]]
    assert loaded.dataset["task"] == ["unspecified"] * 4
    explicit = load_data(tmp_path / "alpaca.jsonl", "question=instruction,note=input,answer=output")
    assert explicit.dataset.to_list() == loaded.dataset.to_list()

    conversations = [{"messages": [{"role": "system", "content": r["note"]}, {"role": "user", "content": r["question"]},
                                   {"role": "assistant", "content": r["answer"]}]} for r in ROWS[:4]]
    (tmp_path / "chat.jsonl").write_text("".join(json.dumps(c) + "\n" for c in conversations))
    chat = load_data(tmp_path / "chat.jsonl", "messages=messages").dataset
    assert chat["note"] == [r["note"] for r in ROWS[:4]] and chat["answer"] == [r["answer"] for r in ROWS[:4]]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.csv", "data file not found"),
        (lambda p: (p / "x.xlsx").write_bytes(b"x") and p / "x.xlsx", "unsupported file type"),
        (lambda p: (p / "bad.jsonl").write_text('{"note": "a"}\n{oops\n') and p / "bad.jsonl", "invalid JSON"),
    ],
)
def test_unreadable_sources_give_one_clear_error(tmp_path, make, message):
    with pytest.raises(ClintuneError, match=message) as raised:
        load_data(make(tmp_path))
    assert "\n" not in raised.value.one_line()


def test_a_mapping_to_an_absent_column_and_an_offline_hub_id_are_refused(tmp_path):
    save_rows(ROWS[:2], tmp_path / "rows.jsonl")
    with pytest.raises(ClintuneError, match="'instruction' named in the column mapping"):
        load_data(tmp_path / "rows.jsonl", "question=instruction")
    with pytest.raises(ClintuneError, match="need the network"):
        load_data("starmpcc/Asclepius-Synthetic-Clinical-Notes")
