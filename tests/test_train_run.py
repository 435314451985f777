"""`clintune train` end to end on the tiny model: stages chain, the run directory is complete, a kill -9 loses only
the steps since the last checkpoint, a non-finite loss stops the run, and bad targets are refused."""

import json
import signal
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from clintune.config import load_config
from clintune.train.run import run_training
from full_disk import SmallDisk

SMALL_DATA = ["data.synthetic_rows=2000", "data.max_note_chars=800", "data.max_tokens=512", "data.sample=120",
              "data.test_size=2", "lora.top_layers=null"]


def test_pretrain_then_sft_chain_and_leave_a_complete_run_directory(tiny_model_dir, tmp_path):
    # Stage 1 learns fast; stage 2's learning rate is too small to move anything, so if stage 2 started from stage
    # 1's weights the final adapter equals stage 1's, and if it restarted from a fresh adapter, lora_B would be 0.
    # In bf16 on every machine: stage 2 must train through stage 1's autocast (fp32 adapters on a bf16 base).
    config = load_config(None, [f"model.name={tiny_model_dir}", *SMALL_DATA, "stages=[pretrain, sft]",
                                "train.precision=bf16",
                                "pretrain.block_size=128", "pretrain.lr=5e-2", "train.lr=1e-12",
                                "train.max_steps=3", "train.batch_size=2", "train.grad_accum=1",
                                "train.save_steps=2"])
    run_dir = run_training(config, tmp_path / "run", say=lambda _: None)
    stage1 = load_file(run_dir / "stages" / "pretrain" / "adapter_model.safetensors")
    final = load_file(run_dir / "adapter" / "adapter_model.safetensors")
    assert stage1.keys() == final.keys()
    assert all(torch.allclose(stage1[k], final[k], atol=1e-6) for k in final)
    assert any(v.abs().sum() > 0 for k, v in final.items() if "lora_B" in k)

    status = json.loads((run_dir / "run.json").read_text())
    assert status["status"] == "finished" and status["stages_done"] == ["pretrain", "sft"]
    assert status["summary"]["steps"] == {"pretrain": 3, "sft": 3}
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert {r["stage"] for r in records if "loss" in r} == {"pretrain", "sft"}
    for stage in ("pretrain", "sft"):
        assert list((run_dir / "tensorboard" / stage).glob("events.out.tfevents.*"))
        assert (run_dir / "checkpoints" / stage / "checkpoint-2" / "clintune-complete.json").is_file()
    assert (run_dir / "loss.png").stat().st_size > 1000
    assert (run_dir / "data" / "data_card.json").is_file()
    assert load_config(run_dir / "config.yaml") == config  # the fully resolved config
    card = (run_dir / "README.md").read_text()
    assert "Not a medical device" in card and str(tiny_model_dir) in card
    assert (run_dir / "adapter" / "README.md").read_text() == card
    assert not list((run_dir / "adapter").glob("*.bin")) and not list((run_dir / "stages").rglob("*.bin"))
    assert not list(run_dir.rglob(".*.partial"))  # weights are saved beside their name, then renamed


RESUMABLE = SMALL_DATA + ["train.max_steps=12", "train.save_steps=4", "train.batch_size=8", "train.grad_accum=2",
                          "train.lr=2e-3"]


def _final(run_dir):
    status = json.loads((run_dir / "run.json").read_text())
    return status["summary"]["steps"]["sft"], status["summary"]["final_loss"]


def test_kill_9_mid_run_then_resume_matches_an_uninterrupted_run(cli, tiny_model_dir, tmp_path):
    args = ["train", "demo", f"model.name={tiny_model_dir}", *RESUMABLE]
    whole = tmp_path / "whole"
    assert cli(*args, "--out", str(whole), timeout=300).returncode == 0

    # kill -9 at step 7: checkpoint 4 is committed, steps 5 and 6 are logged, checkpoint 8 is not written. The run
    # kills itself from a TrainerCallback passed through the public API, so no timing is involved.
    broken = tmp_path / "broken"
    code = ("import os, signal, sys\n"
            "from pathlib import Path\n"
            "from transformers import TrainerCallback\n"
            "from clintune import api\n"
            "class KillAtStep7(TrainerCallback):\n"
            "    def on_step_end(self, args, state, control, **kwargs):\n"
            "        if state.global_step == 7:\n"
            "            os.kill(os.getpid(), signal.SIGKILL)\n"
            "api.train(api.load_config('demo', sys.argv[2:]), out=Path(sys.argv[1]), say=lambda _: None,\n"
            "          callbacks=[KillAtStep7()])\n")
    killed = subprocess.run([sys.executable, "-c", code, str(broken), *args[2:]], capture_output=True, text=True,
                            timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert (broken / "checkpoints" / "sft" / "checkpoint-4" / "clintune-complete.json").is_file()
    assert not (broken / "checkpoints" / "sft" / "checkpoint-8").exists()
    assert json.loads((broken / "run.json").read_text())["status"] == "running"  # killed: no chance to say more
    before = [json.loads(line)["step"] for line in (broken / "metrics.jsonl").read_text().splitlines()]
    assert {5, 6} <= set(before)  # logged after the checkpoint: the resume replays them

    resumed = cli(*args, "--out", str(broken), "--resume", timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming from" in resumed.stderr
    (whole_steps, whole_loss), (steps, loss) = _final(whole), _final(broken)
    assert steps == whole_steps == 12
    assert loss == pytest.approx(whole_loss, rel=0.01)
    # Every step once in metrics.jsonl, though steps 5.. ran twice (before the kill, and after the resume).
    logged = [json.loads(line) for line in (broken / "metrics.jsonl").read_text().splitlines()]
    steps_with_loss = [r["step"] for r in logged if "loss" in r]
    assert steps_with_loss == sorted(set(steps_with_loss)) and steps_with_loss[-1] == 12
    # train.log: a line per logged step, from both attempts, and the resume itself.
    log = (broken / "train.log").read_text()
    assert "stage sft: 12 optimizer steps, resuming at step 4" in log
    assert "stage sft step 12/12 loss" in log and "tok/s" in log and "eta" in log


def test_a_full_disk_marks_the_run_failed_and_resume_continues(tiny_model_dir, tmp_path):
    # A real full disk (a 3 MiB tmpfs: the data and checkpoint 4 fit, checkpoint 8 does not), or where no tmpfs can
    # be mounted, a 1 MiB file-size limit (the first checkpoint's optimizer state does not fit).
    command = [sys.executable, "-m", "clintune", "train", "demo", f"model.name={tiny_model_dir}", *RESUMABLE]
    with SmallDisk(tmp_path / "disk", size=3 * 2**20, file_limit=2**20) as disk:
        run = disk.folder / "run"
        full = subprocess.run([*command, "--out", str(run)], capture_output=True, text=True, timeout=300,
                              preexec_fn=disk.limit)
        assert full.returncode == 2, full.stderr[-3000:]
        assert "Traceback" not in full.stderr
        last = full.stderr.strip().splitlines()[-1]
        # With a file-size limit, torch's serializer may notice the short write itself and keep the OS's reason.
        reason = "no space left on the device" if disk.mounted else (
            "the file grew past the size" if "grew past" in last else "a file could not be written")
        assert last.startswith("error: ") and reason in last and f"--resume --out {run}" in last, last
        status = json.loads((run / "run.json").read_text())
        assert status["status"] == "failed" and reason in status["error"]
        assert not list(run.glob("**/.*.partial"))  # nothing half-written left behind
        checkpoints = sorted((run / "checkpoints" / "sft").glob("checkpoint-*"))
        assert all((folder / "clintune-complete.json").is_file() for folder in checkpoints)
        assert [c.name for c in checkpoints] == (["checkpoint-4"] if disk.mounted else [])

        disk.grow(64 * 2**20)
        resumed = subprocess.run([*command, "--out", str(run), "--resume"], capture_output=True, text=True,
                                 timeout=300, preexec_fn=disk.limit)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert ("resuming from" in resumed.stderr) == disk.mounted
        assert _final(run)[0] == 12


def test_resume_refuses_a_changed_config(cli, tiny_model_dir, tmp_path):
    run = tmp_path / "run"
    args = ["train", "demo", f"model.name={tiny_model_dir}", *SMALL_DATA, "train.max_steps=1", "--out", str(run)]
    assert cli(*args).returncode == 0
    changed = cli(*args[:-2], "train.lr=1e-2", "--out", str(run), "--resume")
    assert changed.returncode == 2 and "differs from the run being resumed at 'train.lr'" in changed.stderr
    finished = cli(*args, "--resume")
    assert finished.returncode == 2 and "already finished" in finished.stderr


def test_a_non_finite_loss_stops_the_run_and_keeps_the_last_good_checkpoint(cli, tiny_model_dir, tmp_path):
    run = tmp_path / "run"
    result = cli("train", "demo", f"model.name={tiny_model_dir}", *SMALL_DATA, "train.lr=1e30",
                 "train.max_grad_norm=0", "train.precision=fp32", "train.warmup_ratio=0", "train.scheduler=constant",
                 "train.max_steps=20", "train.save_steps=1", "--out", str(run))
    assert result.returncode == 2
    assert "the training loss became" in result.stderr and "Traceback" not in result.stderr
    assert json.loads((run / "run.json").read_text())["status"] == "failed"
    kept = list((run / "checkpoints" / "sft").glob("checkpoint-*/clintune-complete.json"))
    assert kept, "the last good checkpoint must be kept"
    assert not (run / "adapter").exists()


def test_an_unmatched_lora_target_exits_2_listing_the_real_names(cli, tiny_model_dir, tmp_path):
    result = cli("train", "demo", f"model.name={tiny_model_dir}", *SMALL_DATA, "lora.targets=[Wqkv, fc1]",
                 "--out", str(tmp_path / "run"))
    assert result.returncode == 2
    assert "Wqkv, fc1 match no linear layer" in result.stderr and "q_proj" in result.stderr
    assert "Traceback" not in result.stderr


def test_notes_only_data_pretrains_and_refuses_sft_with_one_line(cli, tiny_model_dir, tmp_path):
    notes = tmp_path / "notes.jsonl"
    assert cli("data", "generate", "--n", "120", "--seed", "3", "--out", str(notes), "--notes-only").returncode == 0
    common = ["train", "demo", f"model.name={tiny_model_dir}", f"data.path={notes}", "train.max_steps=2",
              "lora.top_layers=null"]
    pretrained = cli(*common, "stages=[pretrain]", "pretrain.block_size=256", "--out", str(tmp_path / "a"))
    assert pretrained.returncode == 0, pretrained.stderr[-2000:]
    assert json.loads((tmp_path / "a" / "run.json").read_text())["summary"]["steps"] == {"pretrain": 2}
    refused = cli(*common, "--out", str(tmp_path / "b"))
    assert refused.returncode == 2 and "stage sft needs questions and answers" in refused.stderr
