import json
from collections import Counter

import pytest
from datasets import Dataset
from typer.testing import CliRunner

from clintune.cli import app
from clintune.config import data_section
from clintune.data.generate import generate_rows
from clintune.data.load import load_data
from clintune.data.prepare import prepare, synthetic_data
from clintune.data.save import save_rows
from clintune.data.schema import TASKS
from clintune.data.split import sample_by_task, split_by_patient
from clintune.data.stats import data_stats
from clintune.errors import ClintuneError
from clintune.prompts.preview import example_token_length, preview_examples


def _patients_with_several_rows():
    rows = generate_rows(160, seed=0)
    return rows + [{**row, "question": row["question"] + " (again)"} for row in rows[:40]]


def test_splits_share_no_patient_and_are_deterministic():
    dataset = Dataset.from_list(_patients_with_several_rows())
    splits = split_by_patient(dataset, test_size=5, val_size=0.1, seed=0)
    patients = {name: set(split["patient_id"]) for name, split in splits.items()}
    assert not patients["train"] & patients["test"]
    assert not patients["train"] & patients["validation"]
    assert not patients["test"] & patients["validation"]
    assert sum(len(s) for s in splits.values()) == len(dataset)
    assert all(count >= 5 for count in Counter(splits["test"]["task"]).values())
    assert set(splits["test"]["task"]) == set(TASKS)
    again = split_by_patient(dataset, test_size=5, val_size=0.1, seed=0)
    assert again["test"]["patient_id"] == splits["test"]["patient_id"]
    assert split_by_patient(dataset, test_size=5, seed=1)["test"]["patient_id"] != splits["test"]["patient_id"]


def test_stratified_sampling_keeps_the_task_mix():
    rows = generate_rows(800, seed=1)
    rows = [r for r in rows if r["task"] != "Summarization" or r["patient_id"] % 4 == 0]  # a skewed mix
    sample = sample_by_task(Dataset.from_list(rows), 140, seed=0)
    full, sampled = Counter(r["task"] for r in rows), Counter(sample["task"])
    assert len(sample) == 140
    for task, n in full.items():
        assert abs(sampled[task] - 140 * n / len(rows)) < 1


def test_sampling_takes_a_patients_twin_rows_together():
    rows = generate_rows(2000, seed=3)
    sample = sample_by_task(Dataset.from_list(rows), 600, seed=0)
    per_patient = Counter(r["patient_id"] for r in rows)
    sampled = Counter(sample["patient_id"])
    assert any(per_patient[p] == 2 for p in sampled)  # twins were drawn
    assert all(n == per_patient[p] for p, n in sampled.items())  # and never one without the other
    assert 590 <= len(sample) <= 600


def test_prepare_filters_samples_splits_and_writes_a_data_card(tmp_path, tiny_tokenizer, tiny_model_dir):
    path = tmp_path / "rows.csv"
    save_rows(generate_rows(300, seed=2), path)
    result = CliRunner().invoke(app, ["data", "prepare", str(path), "--out", str(tmp_path / "prep"),
                                      "--max-note-chars", "1500", "--max-tokens", "700", "--tokenizer",
                                      str(tiny_model_dir), "--sample", "160", "--test-size", "3",
                                      "--val-size", "0.1", "--seed", "4"])
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "prep" / "data_card.json").read_text())
    counts = [step["rows"] for step in card["counts"]]
    assert counts[0] == 300 and counts == sorted(counts, reverse=True) and counts[-1] == 160
    assert card["content_hash"] == load_data(path).content_hash
    assert card["identifier_scan"]["findings"] == 0
    splits = {name: [json.loads(line) for line in (tmp_path / "prep" / f"{name}.jsonl").open()]
              for name in ("train", "validation", "test")}
    assert sum(len(rows) for rows in splits.values()) == 160
    assert {name: len(rows) for name, rows in splits.items()} == {n: s["rows"] for n, s in card["splits"].items()}
    assert all(len(r["note"]) <= 1500 for rows in splits.values() for r in rows)
    length = example_token_length(tiny_tokenizer, "asclepius", True)
    assert all(length(r) <= 700 for rows in splits.values() for r in rows)
    second = CliRunner().invoke(app, ["data", "prepare", str(path), "--out", str(tmp_path / "again"),
                                      "--max-note-chars", "1500", "--max-tokens", "700", "--tokenizer",
                                      str(tiny_model_dir), "--sample", "160", "--test-size", "3",
                                      "--val-size", "0.1", "--seed", "4"])
    assert second.exit_code == 0
    for name in ("train", "validation", "test"):
        assert (tmp_path / "prep" / f"{name}.jsonl").read_bytes() == (tmp_path / "again" / f"{name}.jsonl").read_bytes()


def test_prepare_refuses_invalid_data_before_anything_else():
    loaded = synthetic_data(24, seed=0)
    loaded.dataset = loaded.dataset.map(lambda row, i: {"answer": "" if i == 4 else row["answer"]}, with_indices=True)
    with pytest.raises(ClintuneError, match=r"failed validation: error: empty .*\(row 4\)"):
        prepare(loaded, data_section(test_size=1))


def test_stats_count_rows_patients_tasks_and_lengths(tmp_path, tiny_tokenizer):
    rows = generate_rows(16, seed=3)
    path = tmp_path / "rows.jsonl"
    save_rows(rows, path)
    summary, lengths = data_stats(load_data(path), tiny_tokenizer, example_token_length(tiny_tokenizer, "asclepius",
                                                                                         True))
    assert summary["rows"] == 16 and summary["patients"] == 16
    assert {task: info["rows"] for task, info in summary["tasks"].items()} == {task: 2 for task in TASKS}
    assert summary["lengths"]["characters"]["note"]["max"] == max(len(r["note"]) for r in rows)
    assert lengths["tokens"]["example"][0] > lengths["tokens"]["note"][0]
    result = CliRunner().invoke(app, ["data", "stats", str(path), "--plot", str(tmp_path / "lengths.png"), "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["rows"] == 16
    assert (tmp_path / "lengths.png").read_bytes()[:4] == b"\x89PNG"


def test_preview_shows_trained_tokens_eos_and_truncation(tmp_path, tiny_tokenizer, tiny_model_dir):
    rows = generate_rows(3, seed=5)
    (example,) = preview_examples(rows, tiny_tokenizer, "asclepius", True, max_length=4096, n=1)
    trained = "".join(piece for piece, is_trained, _ in example.pieces if is_trained)
    assert trained == rows[0]["answer"] + tiny_tokenizer.eos_token
    assert example.pieces[-1][2] and example.truncation is None
    cut = preview_examples(rows, tiny_tokenizer, "asclepius", True, max_length=example.prompt_tokens + 2, n=1)[0]
    assert "cuts into the answer" in cut.truncation
    gone = preview_examples(rows, tiny_tokenizer, "asclepius", True, max_length=example.prompt_tokens - 1, n=1)[0]
    assert "removes the whole answer" in gone.truncation
    path = tmp_path / "rows.jsonl"
    save_rows(rows, path)
    shown = CliRunner().invoke(app, ["data", "preview", str(path), "--template", "asclepius", "--tokenizer",
                                     str(tiny_model_dir), "--n", "2", "--max-length", "64"])
    assert shown.exit_code == 0
    assert shown.output.count("⟨EOS") == 2 and "removes the whole answer" in shown.output
