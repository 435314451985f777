"""Test fixtures: no network, a temporary HF_HOME, a tiny random Llama built once per session.

The Hub is switched off before transformers is imported. Each session gets its own CLINTUNE_HOME for the tiny model;
the real SmolLM2 model is read from the user's cache (where `make test` fetched it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

_SESSION_TMP = Path(tempfile.mkdtemp(prefix="clintune-tests-"))
# The user's cache, where `make test` fetched SmolLM2. Test workers inherit the environment set below, so the first
# process to get here records it for them: otherwise a worker would take the session's CLINTUNE_HOME for the user's.
REAL_CLINTUNE_HOME = (os.environ.get("CLINTUNE_TESTS_REAL_HOME") or os.environ.get("CLINTUNE_HOME")
                      or str(Path.home() / ".cache" / "clintune"))
os.environ.update(
    {
        "CLINTUNE_TESTS_REAL_HOME": REAL_CLINTUNE_HOME,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HOME": str(_SESSION_TMP / "hf-home"),
        "CLINTUNE_HOME": str(_SESSION_TMP / "clintune-home"),
    }
)

from clintune.models.fetch import fetch_model  # noqa: E402 - after the environment is set
from clintune.models.load import load_model, load_tokenizer  # noqa: E402


def pytest_configure(config):
    """Each xdist worker, and every process it starts (servers, CLI runs, torchrun ranks), gets its share of the
    cores. Left to OpenMP, every process spins one thread per core, and on 2 cores two workers' torch threads fight:
    on the 2-core CI machine the demo, pairs and eval tests took 161 s that way and 109 s with one thread each."""
    import torch

    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        return  # xdist's controller runs no test; its workers must not inherit its own count
    workers = getattr(config, "workerinput", {}).get("workercount", 1)
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // workers)))
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


@pytest.fixture(scope="session")
def tiny_model_dir() -> Path:
    return fetch_model("tiny-random-llama", say=lambda _: None)


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_model_dir):
    return load_tokenizer(str(tiny_model_dir))


@pytest.fixture
def tiny_model(tiny_model_dir):
    return load_model(str(tiny_model_dir))


@pytest.fixture(scope="session")
def smollm2_dir() -> Path:
    path = Path(REAL_CLINTUNE_HOME) / "models" / "smollm2-135m-instruct"
    if not (path / "config.json").is_file():
        env = {**os.environ, "CLINTUNE_HOME": REAL_CLINTUNE_HOME}
        subprocess.run([sys.executable, "-m", "clintune", "models", "fetch", "smollm2-135m-instruct"], env=env,
                       check=True)
    return path


@pytest.fixture(scope="session")
def cli():
    """Run the real console entry point in a subprocess, with the test environment."""

    def run(*args: str, env_extra: dict | None = None, timeout: int = 300,
            input: str | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, **(env_extra or {})}
        return subprocess.run([sys.executable, "-m", "clintune", *args], capture_output=True, text=True, env=env,
                              timeout=timeout, input=input)

    return run


@pytest.fixture(scope="session")
def tuned_run(cli, tiny_model_dir, tmp_path_factory):
    """A finished LoRA run of the tiny model whose adapter clearly changes the answers (lr 5e-2, 3 steps)."""
    run = tmp_path_factory.mktemp("tuned") / "run"
    result = cli("train", "demo", f"model.name={tiny_model_dir}", "data.synthetic_rows=2000", "data.max_note_chars=800",
                 "data.sample=60", "data.test_size=6", "lora.top_layers=null", "train.max_steps=3", "train.lr=5e-2",
                 "--out", str(run))
    assert result.returncode == 0, result.stderr[-2000:]
    return run


@pytest.fixture(scope="session")
def start_server():
    """Starts a real `clintune serve` on a free loopback port: start_server(model_dir, *options) -> (process, url)."""
    from clintune.serve.background import start_background_server

    def start(model_dir, *extra: str, env_extra: dict | None = None, run: bool = False):
        return start_background_server("--run" if run else "--model", str(model_dir), *extra, env_extra=env_extra)

    return start


@pytest.fixture(scope="module")
def studio(tmp_path_factory, smollm2_dir):
    """A real `clintune studio` on a free loopback port, over a runs folder of its own: (url, runs folder). It reads
    models from the real cache (SmolLM2 for the data and memory tabs); runs use the tiny model by its folder."""
    import signal

    from clintune.serve.background import start_background_server

    runs = tmp_path_factory.mktemp("studio-runs")
    process, url = start_background_server("--runs", str(runs), command="studio", ready="/api/options",
                                           env_extra={"CLINTUNE_HOME": REAL_CLINTUNE_HOME})
    yield url, runs
    process.send_signal(signal.SIGTERM)
    assert "Traceback" not in process.communicate(timeout=30)[1]


def pytest_terminal_summary(terminalreporter):
    """The bad-input probe's table (inputs tried, handled, failed by group), from whichever worker ran it."""
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", []):
        for name, table in getattr(report, "user_properties", []):
            if name == "bad_input_probe" and report.when == "call":
                terminalreporter.write_sep("-", "bad-input probe")
                terminalreporter.write_line(table)
