"""The command line as a user meets it: help, one-line errors with exit code 2, no tracebacks."""

import pytest


def _assert_one_line_user_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip() and "gemm_4bit" not in line]
    assert len(lines) == 1, lines
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize("command", [[], ["demo"], ["models"], ["models", "fetch"], ["models", "list"], ["doctor"],
                                     ["config", "show"]])
def test_every_command_has_help(cli, command):
    result = cli(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_fetching_an_unknown_model_is_one_line_and_exit_2(cli):
    _assert_one_line_user_error(cli("models", "fetch", "no-such-model"), "unknown model 'no-such-model'",
                                "smollm2-135m-instruct")


def test_demo_out_pointing_at_a_file_is_one_line_and_exit_2(cli, tmp_path):
    target = tmp_path / "a-file"
    target.write_text("x")
    _assert_one_line_user_error(cli("demo", "--quick", "--out", str(target)), "is a file, not a folder")
    assert target.read_text() == "x"


def test_unknown_config_key_is_one_line_with_a_suggestion(cli):
    _assert_one_line_user_error(cli("config", "show", "lora.rank=8"), "unknown config key 'lora.rank'", "lora.r")


def test_help_and_a_mistake_in_the_config_answer_before_the_training_stack_loads():
    """torch, transformers and TRL take seconds to import: `clintune --help` and a config mistake must not wait."""
    import os
    import subprocess
    import sys

    for args in (["--help"], ["train", "demo", "train.lrr=1"]):
        result = subprocess.run([sys.executable, "-X", "importtime", "-m", "clintune", *args], capture_output=True,
                                text=True, env=os.environ, timeout=120)
        imported = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import")}
        assert "clintune.cli" in imported and not imported & {"torch", "transformers", "trl", "peft", "datasets"}
    assert result.returncode == 2 and "did you mean 'train.lr'" in result.stderr


def test_unknown_option_is_exit_2_without_traceback(cli):
    result = cli("demo", "--no-such-option")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_doctor_reports_versions_offline_state_and_cache(cli):
    result = cli("doctor")
    assert result.returncode == 0, result.stderr
    for label in ("torch", "transformers", "peft", "trl", "accelerate", "bf16", "bitsandbytes", "offline", "cache",
                  "default model"):
        assert label in result.stdout
    assert "HF_HUB_OFFLINE=1" in result.stdout.replace("\n", "")


def test_models_list_shows_cached_and_fetchable(cli, tiny_model_dir):
    result = cli("models", "list")
    assert result.returncode == 0
    assert "tiny-random-llama" in result.stdout and "smollm2-135m-instruct" in result.stdout
