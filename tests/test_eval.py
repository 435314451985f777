"""`clintune eval` on a real tiny run: base and tuned side by side, resuming from the generation cache."""

import json


def test_eval_compares_base_and_tuned_and_resumes_from_its_cache(cli, tuned_run, tmp_path):
    out = tmp_path / "eval"
    args = ["eval", "--run", str(tuned_run), "--compare-base", "--max-new-tokens", "8", "--out", str(out), "--json"]
    first = cli(*args)
    assert first.returncode == 0, first.stderr[-2000:]
    metrics = json.loads(first.stdout)
    n = metrics["n"]
    assert n == len((tuned_run / "data" / "test.jsonl").read_text().splitlines())
    for name in ("base", "tuned"):
        assert metrics[name]["overall"]["n"] == n and "rouge_l" in metrics[name]["overall"]
        assert set(metrics[name]["per_task"]) <= set(json.loads(line)["task"] for line in
                                                     (tuned_run / "data" / "test.jsonl").read_text().splitlines())
    assert metrics["gain"]["rouge_l"] == metrics["tuned"]["overall"]["rouge_l"] - metrics["base"]["overall"]["rouge_l"]
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == n and all("prediction_base" in r and "prediction_tuned" in r for r in rows)
    assert any(r["prediction_base"] != r["prediction_tuned"] for r in rows)
    cached = (out / "generations.cache.jsonl").read_text()
    again = cli(*args)
    assert json.loads(again.stdout) == metrics  # nothing generated twice: the same answers, from the cache
    assert (out / "generations.cache.jsonl").read_text() == cached


def test_eval_mistakes_are_one_line(cli, tiny_model_dir, tuned_run):
    no_adapter = cli("eval", "--model", str(tiny_model_dir), "--data", str(tuned_run / "data"), "--compare-base",
                     "--limit", "1")
    assert no_adapter.returncode == 2 and "--compare-base needs an adapter" in no_adapter.stderr
    no_data = cli("eval", "--model", str(tiny_model_dir))
    assert no_data.returncode == 2 and "no evaluation data" in no_data.stderr
    for result in (no_adapter, no_data):
        assert "Traceback" not in result.stderr


def test_eval_with_another_template(cli, tiny_model_dir, tuned_run, tmp_path):
    result = cli("eval", "--model", str(tiny_model_dir), "--data", str(tuned_run / "data"), "--template", "phi2",
                 "--no-chat", "--limit", "2", "--max-new-tokens", "4", "--out", str(tmp_path / "e"), "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["tuned"]["overall"]["n"] == 2
