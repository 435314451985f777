import os
import subprocess
import sys

import pytest

from clintune.errors import ClintuneError
from clintune.models.fetch import fetch_model
from clintune.models.registry import cached_models, models_dir, resolve_model


def test_fetch_is_idempotent_and_the_short_name_resolves(tiny_model_dir):
    messages = []
    assert fetch_model("tiny-random-llama", say=messages.append) == tiny_model_dir
    assert "already cached" in messages[0]
    assert resolve_model("tiny-random-llama") == str(tiny_model_dir)
    assert (tiny_model_dir / "model.safetensors").is_file()
    assert not list(tiny_model_dir.glob("*.bin"))
    assert "tiny-random-llama" in [m["name"] for m in cached_models()]


def test_local_folder_resolves_and_bad_names_are_user_errors(tiny_model_dir, tmp_path):
    assert resolve_model(str(tiny_model_dir)) == str(tiny_model_dir)
    with pytest.raises(ClintuneError, match="unknown model 'no-such-model'"):
        resolve_model("no-such-model")
    with pytest.raises(ClintuneError, match="HF_HUB_OFFLINE"):
        resolve_model("someorg/some-model")
    with pytest.raises(ClintuneError, match="has no config.json"):
        resolve_model(str(tmp_path))
    with pytest.raises(ClintuneError, match="unknown model"):
        fetch_model("no-such-model")


def test_interrupted_fetch_leaves_no_model_folder(tmp_path):
    # Ctrl-C delivered while the fetch is writing into its staging folder: the process signals itself from the
    # fetch's own progress message, so the interrupt always lands mid-fetch, however busy the machine is. Ctrl-C's
    # handler is set first: a process started in the background by a shell without job control inherits SIGINT
    # ignored, and Python then installs no KeyboardInterrupt handler.
    code = ("import os, signal\n"
            "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
            "from clintune.models.fetch import fetch_model\n"
            "def say(message):\n"
            "    if message.startswith('building'):\n"
            "        assert any(p.name.startswith('.partial-') for p in (__import__('pathlib').Path(os.environ["
            "'CLINTUNE_HOME']) / 'models').iterdir())\n"
            "        os.kill(os.getpid(), signal.SIGINT)\n"
            "fetch_model('tiny-random-llama', say=say)\n")
    env = {**os.environ, "CLINTUNE_HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert "KeyboardInterrupt" in result.stderr and result.returncode != 0, result.stderr[-1000:]
    assert not (tmp_path / "models" / "tiny-random-llama").exists()
    assert not list((tmp_path / "models").glob(".partial-*"))


def test_models_dir_follows_clintune_home(tmp_path, monkeypatch):
    monkeypatch.setenv("CLINTUNE_HOME", str(tmp_path))
    assert models_dir() == tmp_path / "models"
    assert cached_models() == []


def test_hub_source_is_refused_offline_and_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("CLINTUNE_HOME", str(tmp_path))
    with pytest.raises(ClintuneError, match="HF_HUB_OFFLINE is set"):
        fetch_model("smollm2-135m-instruct", source="hub", say=lambda _: None)
    assert list((tmp_path / "models").iterdir()) == []


def test_a_fetch_that_loses_a_race_keeps_the_other_processes_copy(tmp_path, monkeypatch, tiny_model_dir):
    import shutil

    monkeypatch.setenv("CLINTUNE_HOME", str(tmp_path))
    final = tmp_path / "models" / "tiny-random-llama"

    def say(line: str) -> None:
        if line.startswith("building"):  # meanwhile another process (two test workers, two shells) finishes first
            shutil.copytree(tiny_model_dir, final)

    assert fetch_model("tiny-random-llama", say=say) == final
    assert (final / "config.json").is_file() and not list(final.parent.glob(".partial-*"))
