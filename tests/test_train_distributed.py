"""`clintune train --nproc 2`: two real processes (torchrun, gloo on CPU) train data-parallel and end identical."""

import json


def test_two_process_ddp_ends_with_identical_weights_on_both_ranks(cli, tiny_model_dir, tmp_path):
    run = tmp_path / "run"
    result = cli("train", "demo", f"model.name={tiny_model_dir}", "lora.top_layers=null", "data.synthetic_rows=600",
                 "data.sample=120", "data.test_size=2", "train.max_steps=4", "train.batch_size=4", "--nproc", "2",
                 "--out", str(run), timeout=400)
    assert result.returncode == 0, result.stderr[-3000:]
    status = json.loads((run / "run.json").read_text())
    assert status["status"] == "finished"
    # Each rank hashes its own trainable weights after the last step; run.json records both.
    assert status["ranks"]["world_size"] == 2
    assert status["ranks"]["weights_identical"] is True
    assert len(set(status["ranks"]["digests"])) == 1
    assert status["summary"]["steps"] == {"sft": 4}
    assert (run / "adapter" / "adapter_model.safetensors").is_file()
    assert result.stdout.count("trained; run directory") == 1


def test_a_rank_error_reaches_the_user_as_one_line(cli, tiny_model_dir, tmp_path):
    result = cli("train", "demo", f"model.name={tiny_model_dir}", "lora.targets=Wqkv", "--nproc", "2",
                 "--out", str(tmp_path / "run"), timeout=400)
    assert result.returncode == 2
    assert "Wqkv match no linear layer" in result.stderr and "Traceback" not in result.stderr
