"""`clintune pairs`, offline: answers sampled from a real tuned run, scored against the gold answer and the note."""

import json

import httpx
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


def test_pairs_from_the_judge_keep_answers_it_grades_apart_and_confirms_in_both_orders(cli, tuned_run, tmp_path):
    from echo_judge import EchoJudge, grade

    out, kto = tmp_path / "pairs.jsonl", tmp_path / "kto.jsonl"
    with EchoJudge() as echo:
        result = cli("pairs", "--run", str(tuned_run), "--out", str(out), "--questions", "6", "--samples", "3",
                     "--max-new-tokens", "12", "--kto", str(kto), "--judge", echo.url, "--judge-model", "echo")
        asked = echo.requests
    assert result.returncode == 0, result.stderr[-2000:]
    pairs = _rows(out)
    assert pairs and f"{len(pairs)} pairs from 6 questions" in result.stdout and "(judge: " in result.stdout
    for pair in pairs:  # the echo judge grades an answer by the first digit 1-4 in it, else by its length
        made = pair["made_by"]
        assert made["method"] == "judge" and made["judge_model"] == "echo" and made["pairwise"] == ["A", "B"]
        assert grade(pair["chosen"]) - grade(pair["rejected"]) >= 1
        assert max(made["scores"]) == grade(pair["chosen"]) and min(made["scores"]) == grade(pair["rejected"])
    assert asked == 6 + 2 * len(pairs)  # one graded prompt per question, both orders per pair (none reversed here)
    for row in _rows(kto):
        assert row["label"] == (grade(row["completion"]) >= 3) == (row["made_by"]["score"] >= 3)


def _position_judge(tiny_model_dir, out):
    """The tiny model trained (plain transformers, 160 steps) on the judge's own prompts to reply 'A' and then
    'A: 4, B: 1' whatever it is asked: a judge that follows the position, not the answer."""
    import random

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from clintune.evaluate.judge import pairwise_messages, pointwise_messages

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    from clintune.data.prepare import synthetic_data

    torch.manual_seed(0)
    rng = random.Random(0)
    rows = [row for row in synthetic_data(300, 1).dataset if len(row["note"]) <= 800][:32]
    reply = tokenizer("A\nA: 4, B: 1", add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    sequences = []
    for i, row in enumerate(rows):
        answers = [rng.choice(rows)["answer"][:rng.randint(5, 200)] for _ in range(2)]
        messages = (pointwise_messages(row["note"], row["question"], answers) if i % 2
                    else pairwise_messages(row["note"], row["question"], *answers))
        prompt = tokenizer(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True),
                           add_special_tokens=False)["input_ids"]
        sequences.append((torch.tensor([prompt + reply]), torch.tensor([[-100] * len(prompt) + reply])))
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for step in range(160):
        ids, labels = sequences[step % len(sequences)]
        model(input_ids=ids, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def test_a_real_clintune_serve_as_the_judge_is_asked_and_a_judge_that_follows_the_position_makes_no_pair(
        tuned_run, tiny_model_dir, start_server, tmp_path):
    """The judge is a real `clintune serve` of a model that grades whatever stands in position A best: its grades
    are read, and because it prefers position A in both orders, the pairwise check confirms no pair."""
    import pytest

    from clintune import api
    from clintune.errors import ClintuneError

    process, url = start_server(_position_judge(tiny_model_dir, tmp_path / "judge"))
    try:
        name = httpx.get(f"{url}/v1/models", timeout=30).json()["data"][0]["id"]
        with pytest.raises(ClintuneError) as refused:  # in process: the command line is the echo judge test's
            api.pairs(tuned_run, tmp_path / "p.jsonl", samples=2, questions=2, max_new_tokens=8,
                      judge=api.JudgeSettings(f"{url}/v1", name, max_tokens=16), say=lambda _: None)
    finally:
        process.terminate()
        log = process.communicate(timeout=30)[1]
    assert "the judge separated no two answers to any of 2 questions (2 not confirmed in both orders" \
        in refused.value.one_line()
    assert log.count("POST /v1/chat/completions 200") == 2 + 2 * 2  # graded, then both orders of each would-be pair
    assert not (tmp_path / "p.jsonl").exists()
