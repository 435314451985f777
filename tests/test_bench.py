"""`clintune bench`: the real lm_eval package against real `clintune serve` processes, base vs tuned, on the offline
tasks made from generated notes and on a real lm-eval task (MMLU clinical knowledge) read from a local copy."""

import json
import shutil
from pathlib import Path

import pytest

from clintune.data.generate import generate_rows


@pytest.fixture
def run(tuned_run, tmp_path):
    copy = tmp_path / tuned_run.name
    shutil.copytree(tuned_run, copy)
    return copy


def _local_mmlu_copy(folder: Path) -> Path:
    """MMLU's clinical knowledge in its Hub layout (question, subject, choices, answer), written from generated notes:
    lm-eval's own task file, prompt and metric must read it from --data-dir instead of the Hub."""
    rows = generate_rows(8, seed=3)
    docs = [{"question": row["question"], "subject": "clinical_knowledge", "answer": i % 4,
             "choices": [rows[(i + k) % 8]["answer"][:60] for k in range(4)]} for i, row in enumerate(rows)]
    (folder / "mmlu_clinical_knowledge").mkdir(parents=True)
    path = folder / "mmlu_clinical_knowledge" / "test.jsonl"
    path.write_text("".join(json.dumps(doc) + "\n" for doc in docs))
    return path


def test_bench_prints_base_vs_tuned_on_local_tasks_and_a_real_lm_eval_task(cli, run, tmp_path):
    mmlu = _local_mmlu_copy(tmp_path / "data")
    result = cli("bench", str(run), "--tasks", "notes,mmlu_clinical_knowledge", "--data-dir", str(tmp_path / "data"),
                 "--limit", "4", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    for task, metric in (("clintune_note_mc", " acc "), ("clintune_note_gen", "exact_match"),
                         ("mmlu_clinical_knowledge", " acc ")):
        assert any(task in line and metric in line for line in lines), result.stdout
    saved = json.loads((run / "bench" / "results.json").read_text())
    assert saved["tasks"] == ["clintune_note_mc", "clintune_note_gen", "mmlu_clinical_knowledge"]
    assert {(row["task"], row["metric"]) for row in saved["rows"]} == {
        ("clintune_note_mc", "acc"), ("clintune_note_gen", "exact_match"), ("mmlu_clinical_knowledge", "acc")}
    for row in saved["rows"]:  # --limit 4: each score is a share of four documents, for base and tuned alike
        assert row["base"] in (0, 0.25, 0.5, 0.75, 1) and row["tuned"] in (0, 0.25, 0.5, 0.75, 1), row
    override = json.loads((run / "bench" / "tasks" / "mmlu_clinical_knowledge.yaml").read_text())
    assert override["include"].endswith("mmlu_clinical_knowledge.yaml") and override["dataset_path"] == "json"
    assert override["dataset_kwargs"] == {"data_files": {"test": str(mmlu)}}
    assert override["fewshot_split"] is None  # no local dev split: lm-eval is told so, rather than fetching it
    log = (run / "bench" / "bench.log").read_text()
    # Both sides went through a real server: scoring (echo) and generation requests, the remote tokenizer.
    assert log.count("POST /v1/completions 200") >= 2 * (4 * 4 + 4 + 4 * 4) and "GET /tokenizer_info 200" in log
    assert cli("report", str(run)).returncode == 0
    assert "| clintune_note_mc | acc |" in (run / "report.md").read_text()


def test_hub_tasks_offline_without_a_data_dir_are_one_line(cli, run, tmp_path):
    result = cli("bench", str(run), "--tasks", "medqa_4options,pubmedqa")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "medqa_4options, pubmedqa read their data from the Hugging Face Hub" in result.stderr
    assert "--data-dir" in result.stderr and not (run / "bench").exists()
    result = cli("bench", str(run), "--tasks", "no_such_task", "--data-dir", str(tmp_path))
    assert result.returncode == 2 and "lm-eval has no task named 'no_such_task'" in result.stderr
