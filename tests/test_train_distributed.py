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


def test_the_ranks_run_the_users_own_command_line(cli, tiny_model_dir, tmp_path):
    # Each rank re-runs the original argv, so a flag no launcher code knows about still reaches it: here the memory
    # limit, which only the ranks (they plan memory, the launcher does not) can act on.
    result = cli("train", "demo", f"model.name={tiny_model_dir}", "lora.top_layers=null", "data.synthetic_rows=600",
                 "data.sample=120", "data.test_size=2", "--max-memory", "1MiB", "--nproc", "2",
                 "--out", str(tmp_path / "run"), timeout=400)
    assert result.returncode == 2, result.stderr[-3000:]
    assert "the memory plan needs" in result.stderr and "the limit of 0.001 GiB" in result.stderr
    assert json.loads((tmp_path / "run" / "run.json").read_text())["status"] == "failed"


def test_from_python_more_than_one_process_asks_for_a_launcher(tiny_model_dir, tmp_path):
    import pytest

    from clintune import api
    from clintune.errors import ClintuneError

    config = api.load_config(None, [f"model.name={tiny_model_dir}", "distributed.nproc=2"])
    with pytest.raises(ClintuneError, match="needs a launcher") as error:
        api.train(config, out=tmp_path / "run")
    assert "torchrun --nproc_per_node" in error.value.one_line()
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_ranks_that_fail_before_writing_anything_leave_the_run_recorded_failed(tmp_path):
    # The first rank to fail makes torchrun stop the others, so rank 0 may never record why; the launcher does.
    # Here every rank fails before any of them writes run.json: the order of the ranks cannot matter.
    import pytest

    from clintune.errors import ClintuneError
    from clintune.train.launch import relaunch

    run = tmp_path / "run"
    run.mkdir()
    with pytest.raises(ClintuneError, match="no recipe file or shipped recipe named 'no-such-recipe'"):
        relaunch(2, ["train", "no-such-recipe", "--out", str(run)], run)
    status = json.loads((run / "run.json").read_text())
    assert status["status"] == "failed" and "no-such-recipe" in status["error"]
