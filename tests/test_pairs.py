"""`clintune pairs`, offline: answers sampled from a real tuned run, scored against the gold answer and the note."""

import json

from transformers import AutoTokenizer

from clintune.prompts.templates import render_prompt


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_pairs_put_the_gold_answer_against_a_sampled_ungrounded_or_wrong_one(cli, tuned_run, tiny_model_dir, tmp_path):
    out, kto = tmp_path / "pairs.jsonl", tmp_path / "kto.jsonl"
    args = ("pairs", "--run", str(tuned_run), "--out", str(out), "--questions", "6", "--samples", "2",
            "--max-new-tokens", "12", "--kto", str(kto))
    result = cli(*args)
    assert result.returncode == 0, result.stderr[-2000:]
    pairs = _rows(out)
    training = _rows(tuned_run / "data" / "train.jsonl")[:6]
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    assert 1 <= len(pairs) <= 6 and f"{len(pairs)} pairs from 6 questions" in result.stdout
    for pair in pairs:
        row = next(r for r in training if r["question"] == pair["question"] and r["note"] == pair["note"])
        assert pair["chosen"] == row["answer"] and pair["rejected"] != row["answer"]
        assert pair["prompt"] == render_prompt(tokenizer, row["note"], row["question"], "asclepius", True)
        made = pair["made_by"]
        assert made["method"] == "gold" and made["seed"] == 0 and made["samples"] == 2
        assert made["rejected_unsupported"] > 0 or made["rejected_f1"] < 0.3  # ungrounded or wrong, as recorded
    labelled = _rows(kto)
    assert {row["label"] for row in labelled} <= {True, False}
    assert sum(row["made_by"].get("completion") == "gold" and row["label"] for row in labelled) == 6
    # Seeded and cached: the same command writes the same file.
    first = out.read_text()
    assert cli(*args).returncode == 0 and out.read_text() == first


def test_pairs_from_a_folder_that_is_not_a_run_is_one_line(cli, tmp_path):
    result = cli("pairs", "--run", str(tmp_path), "--out", str(tmp_path / "p.jsonl"))
    assert result.returncode == 2 and "not a finished clintune run" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "p.jsonl").exists()
