"""EleutherAI's lm-evaluation-harness (the real lm_eval package, as a user runs it) against a real `clintune serve`:
the log-likelihood path over /v1/completions (token-id prompts, echo, logprobs, the remote tokenizer endpoints) and
the generation path over /v1/chat/completions, each compared with lm-eval's own Hugging Face backend on the same
model and task, document by document."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clintune.bench.tasks import GEN_TASK, MC_TASK, write_note_tasks


@pytest.fixture(scope="module")
def tasks(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("harness-tasks")
    assert write_note_tasks(folder, n=8) == [MC_TASK, GEN_TASK]
    return folder


@pytest.fixture(scope="module")
def server(tiny_model_dir, start_server):
    process, url = start_server(tiny_model_dir)
    yield url
    process.terminate()
    stderr = process.communicate(timeout=30)[1]
    assert "GET /tokenizer_info 200" in stderr and "POST /tokenize 200" in stderr  # lm-eval used the remote tokenizer


def _lm_eval(tasks: Path, out: Path, task: str, *model: str) -> dict[int, list]:
    """Run lm_eval; each document's responses, from its --log_samples file."""
    command = [sys.executable, "-m", "lm_eval", *model, "--tasks", task, "--include_path", str(tasks),
               "--output_path", str(out), "--log_samples"]
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=400, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    (samples,) = out.glob(f"*/samples_{task}_*.jsonl")
    return {row["doc_id"]: row["resps"] for row in map(json.loads, samples.read_text().splitlines())}


def _hf(model_dir: Path) -> list[str]:
    return ["--model", "hf", "--model_args", f"pretrained={model_dir},dtype=float32", "--device", "cpu",
            "--batch_size", "1"]


def test_log_likelihoods_through_the_server_equal_lm_evals_own_backend(server, tasks, tiny_model_dir, tmp_path):
    served = _lm_eval(tasks, tmp_path / "served", MC_TASK, "--model", "local-completions", "--model_args",
                      f"model={tiny_model_dir.name},base_url={server}/v1/completions,num_concurrent=1,max_retries=1,"
                      "tokenizer_backend=remote")
    in_process = _lm_eval(tasks, tmp_path / "hf", MC_TASK, *_hf(tiny_model_dir))
    assert served.keys() == in_process.keys() and len(served) == 8
    for doc, choices in served.items():
        assert len(choices) == 4
        for (ours,), (theirs,) in zip(choices, in_process[doc], strict=True):
            assert float(ours[0]) == pytest.approx(float(theirs[0]), abs=1e-4), (doc, ours, theirs)
            assert ours[1] == theirs[1]  # is_greedy, from top_logprobs


def test_generations_through_chat_completions_equal_lm_evals_own_backend(server, tasks, tiny_model_dir, tmp_path):
    served = _lm_eval(tasks, tmp_path / "served", GEN_TASK, "--model", "local-chat-completions", "--model_args",
                      f"model={tiny_model_dir.name},base_url={server}/v1/chat/completions,num_concurrent=1,"
                      "max_retries=1,tokenizer_backend=None", "--apply_chat_template")
    in_process = _lm_eval(tasks, tmp_path / "hf", GEN_TASK, *_hf(tiny_model_dir), "--apply_chat_template")
    assert served == in_process and len(served) == 8
    assert any(answer[0] for answer in served.values())  # something was generated, not only empty strings
