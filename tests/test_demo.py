"""End to end: `clintune demo --quick` as a user runs it, leaving a readable run directory."""

import json

import pytest
import yaml


def test_quick_demo_writes_a_complete_run_directory(cli, tmp_path):
    run_dir = tmp_path / "run"
    result = cli("demo", "--quick", "--out", str(run_dir), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "base vs tuned" in result.stdout and "ROUGE-L gain" in result.stdout
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for side in ("base", "tuned"):
        overall = metrics[side]["overall"]
        # 2 patients per task held out; an operative note's twin comes along with its patient
        held_out = (run_dir / "data" / "test.jsonl").read_text().count("\n")
        assert overall["n"] == held_out and 16 <= held_out <= 24 and len(metrics[side]["per_task"]) == 8
        low, high = overall["ci95"]["rouge_l"]  # the intervals of `clintune eval`, which the demo now is
        assert low <= overall["rouge_l"] <= high
    # It is the same evaluation as `clintune eval --compare-base`, written where that command writes it.
    assert json.loads((run_dir / "eval" / "metrics.json").read_text())["gain"]["rouge_l"] == pytest.approx(
        metrics["gain_rouge_l_points"] / 100)
    losses = [json.loads(line)["loss"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()
              if "loss" in json.loads(line)]
    assert losses[-1] < losses[0]  # it trained
    assert metrics["train"]["steps"] > 0
    assert (run_dir / "adapter" / "adapter_model.safetensors").is_file()
    assert not list(run_dir.rglob("*.bin"))
    assert (run_dir / "loss.png").stat().st_size > 1000
    assert "| overall |" in (run_dir / "report.md").read_text()
    assert (run_dir / "report.html").is_file()
    assert (run_dir / "metrics.jsonl").is_file() and "Not a medical device" in (run_dir / "README.md").read_text()
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["model"]["name"] == "tiny-random-llama"
    assert json.loads((run_dir / "run.json").read_text())["status"] == "finished"
    predictions = [json.loads(line) for line in (run_dir / "eval" / "predictions.jsonl").read_text().splitlines()]
    assert len(predictions) == held_out
    assert {"prediction_base", "prediction_tuned", "answer", "task"} <= set(predictions[0])
    # The adapter really was switched off for the base answers: training changed what the model says.
    assert any(p["prediction_base"] != p["prediction_tuned"] for p in predictions)
    card = json.loads((run_dir / "data" / "data_card.json").read_text())
    assert card["identifier_scan"]["findings"] == 0 and card["splits"]["test"]["rows"] == held_out
    train = [json.loads(line) for line in (run_dir / "data" / "train.jsonl").read_text().splitlines()]
    assert not {r["patient_id"] for r in train} & {p["patient_id"] for p in predictions}


def test_demo_refuses_a_non_empty_out_folder(cli, tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    result = cli("demo", "--quick", "--out", str(tmp_path))
    assert result.returncode == 2 and "not empty" in result.stderr
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_quick_demo_with_qlora_and_with_full_fine_tuning(cli, tmp_path):
    for method, saved in (("qlora", "adapter/adapter_model.safetensors"), ("full", "model/model.safetensors")):
        run_dir = tmp_path / method
        result = cli("demo", "--quick", "--out", str(run_dir), f"train.method={method}", timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        assert (run_dir / saved).is_file()
        if method == "qlora":
            assert "on a 4-bit nf4 base" in result.stderr
        metrics = json.loads((run_dir / "metrics.json").read_text())
        assert metrics["train"]["method"] == method and 16 <= metrics["tuned"]["overall"]["n"] <= 24
        predictions = [json.loads(line) for line in (run_dir / "eval" / "predictions.jsonl").read_text().splitlines()]
        # A full fine-tune's base answers come from a fresh copy of the starting model, a QLoRA one's with the
        # adapter switched off: either way the tuned model answers differently.
        assert any(p["prediction_base"] != p["prediction_tuned"] for p in predictions)
