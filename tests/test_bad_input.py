"""Every failure the user can fix ends with one line on stderr (what, where, how to fix), exit 2, no traceback and
nothing half-written; a run that stops says so in run.json. Real files, real disks, the real `clintune` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from full_disk import SmallDisk


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The last stderr line, after checking the failure was reported as the user's: exit 2, no traceback."""
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: "), result.stderr[-3000:]
    return last


def test_brackets_in_a_path_print_verbatim(cli, tmp_path):
    # Rich would read "[bold]" as markup: it vanished from messages, and "[/x]" raised MarkupError.
    for name in ("notes[bold]", "a[/x]b", "[bertscore]"):
        last = one_error_line(cli("data", "validate", str(tmp_path / name / "data.csv")))
        assert f"{tmp_path / name / 'data.csv'}" in last


def test_outputs_that_cannot_be_written_are_one_line_naming_the_path(cli, tmp_path):
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x")
    cases = {
        "/proc/clintune-out.jsonl": "no such file or folder",
        "/sys/clintune-out.jsonl": "",  # EACCES or EROFS, by kernel
        str(a_file / "out.jsonl"): "a part of the path is a file, not a folder",
    }
    for path, reason in cases.items():
        last = one_error_line(cli("data", "generate", "--n", "5", "--out", path))
        assert path in last and reason in last, last
    assert a_file.read_text() == "x"


def test_a_full_disk_while_writing_data_leaves_nothing(tiny_model_dir, tmp_path):
    with SmallDisk(tmp_path / "disk", size=64 * 1024, file_limit=64 * 1024) as disk:
        out = disk.folder / "notes.jsonl"
        result = subprocess.run([sys.executable, "-m", "clintune", "data", "generate", "--n", "2000", "--out",
                                 str(out)], capture_output=True, text=True, timeout=300, preexec_fn=disk.limit)
        last = one_error_line(result)
        assert str(out) in last and ("no space left" in last or "grew past the size" in last), last
        assert list(disk.folder.iterdir()) == []  # no output, no temporary file


def test_files_are_created_with_the_usual_mode(cli, tmp_path):
    for umask, mode in ((0o022, 0o644), (0o077, 0o600)):
        out = tmp_path / f"notes-{umask:o}.jsonl"
        result = subprocess.run([sys.executable, "-m", "clintune", "data", "generate", "--n", "3", "--out", str(out)],
                                capture_output=True, text=True, timeout=300, preexec_fn=lambda u=umask: os.umask(u))
        assert result.returncode == 0, result.stderr[-2000:]
        assert out.stat().st_mode & 0o777 == mode


def test_ctrl_c_during_training_marks_the_run_interrupted(tiny_model_dir, tmp_path):
    # Ctrl-C from the run's own callback after step 2, so it always lands mid-run.
    code = ("import os, signal, sys\n"
            "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
            "from pathlib import Path\n"
            "from transformers import TrainerCallback\n"
            "from clintune import api\n"
            "class CtrlC(TrainerCallback):\n"
            "    def on_step_end(self, args, state, control, **kwargs):\n"
            "        if state.global_step == 2:\n"
            "            os.kill(os.getpid(), signal.SIGINT)\n"
            "api.train(api.load_config('demo', sys.argv[2:]), out=Path(sys.argv[1]), say=lambda _: None,\n"
            "          callbacks=[CtrlC()])\n")
    run = tmp_path / "run"
    result = subprocess.run([sys.executable, "-c", code, str(run), f"model.name={tiny_model_dir}",
                             "data.synthetic_rows=600", "data.sample=120", "data.test_size=2", "lora.top_layers=null",
                             "train.max_steps=6", "train.save_steps=4"], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "KeyboardInterrupt" in result.stderr
    status = json.loads((run / "run.json").read_text())
    assert status["status"] == "interrupted" and status["error"] == "interrupted (Ctrl-C)"
