"""Every failure the user can fix ends with one line on stderr (what, where, how to fix), exit 2, no traceback and
nothing half-written; a run that stops says so in run.json. Real files, real disks, the real `clintune` command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from bad_input_probe import Probe
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

        notes = tmp_path / "notes.jsonl"
        subprocess.run([sys.executable, "-m", "clintune", "data", "generate", "--n", "600", "--out", str(notes)],
                       check=True, capture_output=True)
        prepared = disk.folder / "prepared"
        result = subprocess.run([sys.executable, "-m", "clintune", "data", "prepare", str(notes), "--out",
                                 str(prepared), "--test-size", "2"], capture_output=True, text=True, timeout=300,
                                preexec_fn=disk.limit)
        last = one_error_line(result)
        assert str(prepared) in last and ("no space left" in last or "grew past the size" in last), last
        assert list(disk.folder.iterdir()) == []  # not a folder with some of the splits: nothing


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


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    """A folder of bad inputs, as real exports and hand edits produce them."""
    root = tmp_path_factory.mktemp("bad")
    files = {
        "dup.csv": "note,question,answer,answer\nn1,q1,a1,a2\n",
        "header_only.csv": "note,question,answer\n",
        "semicolons.csv": "note;question;answer\nthe note;the question;the answer\n",
        "tabs.csv": "note\tquestion\tanswer\nthe note\tq\ta\n",
        "commas.tsv": "note,question,answer\nthe note,q,a\n",
        "empty.csv": "",
        "empty.jsonl": "",
        "blank_lines.jsonl": "\n\n\n",
        "wide.csv": ",".join(f"col{i}" for i in range(2000)) + "\n" + ",".join("x" * 2000) + "\n",
        "list.yaml": "- a\n- b\n",
        "broken.yaml": "train:\n  lr: [1e-4\n",
        "unknown_key.yaml": "train:\n  learning_rate: 1e-4\n",
        "good.csv": "note,question,answer\nPatient admitted with pneumonia.,Which infection?,Pneumonia.\n",
        "cut_off.csv": 'note,question,answer\nn1,q1,a1\n"n2 with an open quote,q2',
        "cut_off.jsonl": '{"note": "n", "question": "q", "answer": "a"}\n{"note": "n2", "quest',
        "cut_off.json": '[{"note": "n", "question": "q", "answer": "a"},',
    }
    for name, text in files.items():
        (root / name).write_text(text)
    (root / "latin1.yaml").write_bytes(b"name: x\ntrain:\n  lr: \xff\xfe\x00\n")
    (root / "binary.yaml").write_bytes(bytes(range(256)) * 4)
    (root / "binary.csv").write_bytes(bytes(range(256)) * 64)
    (root / "cut_off.parquet").write_bytes(b"PAR1" + bytes(range(200)) * 10)
    (root / "huge_field.csv").write_text('note,question,answer\n"' + "x" * (48 << 20) + '",q,a\nn,q,a\n')
    for name, config in {"negative": {"model_type": "llama", "hidden_size": -5, "num_hidden_layers": 2,
                                      "num_attention_heads": 2, "intermediate_size": 64, "vocab_size": 100},
                         "zero_layers": {"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 0,
                                         "num_attention_heads": 2, "intermediate_size": 64, "vocab_size": 100},
                         "no_type": {"hidden_size": 64}}.items():
        (root / name).mkdir()
        (root / name / "config.json").write_text(json.dumps(config))
    (root / "not_json").mkdir()
    (root / "not_json" / "config.json").write_text("{hidden_size: 64")
    (root / "no_config").mkdir()
    (root / "a_file.txt").write_text("x")
    (root / "taken").mkdir()
    (root / "taken" / "mine.txt").write_text("the user's own file")
    return root


def probe_cases(probe: Probe, bad) -> None:
    csv_ = ("data", "validate")
    for name, cause in (("dup.csv", "column answer more than once"), ("header_only.csv", "a header and nothing"),
                        ("semicolons.csv", "separated by ';', not commas"), ("tabs.csv", "separated by tabs"),
                        ("commas.tsv", "separated by commas, not tabs"), ("empty.csv", "the file is empty"),
                        ("empty.jsonl", "the file is empty"), ("blank_lines.jsonl", "no rows"),
                        ("huge_field.csv", "longer than 16 MB"), ("missing.csv", "not found"),
                        ("cut_off.jsonl", "invalid JSON"),
                        ("cut_off.json", "invalid JSON"), ("cut_off.parquet", "not a readable Parquet file"),
                        ("binary.csv", "")):
        probe.expect("data files", [*csv_, bad / name], cause, inputs=(bad / name,))
    # A cut-off last row is skipped by name; --strict refuses the file, naming it.
    probe.expect("data files", [*csv_, bad / "cut_off.csv"], "", code=0, inputs=(bad / "cut_off.csv",))
    probe.expect("data files", [*csv_, "--strict", bad / "cut_off.csv"], "row 1 (line 3) has 1 field where the "
                 "header has 3 (cut off, or a quote that is never closed)", inputs=(bad / "cut_off.csv",))
    for command in (["data", "stats"], ["data", "scan-phi"], ["data", "prepare", "--out", bad / "prepared"]):
        for name in ("dup.csv", "semicolons.csv", "header_only.csv"):
            probe.expect("data files", [*command, bad / name], "", inputs=(bad / name,), absent=(bad / "prepared",))
    wide = probe.expect("messages", [*csv_, bad / "wide.csv"], "missing columns")
    assert max(len(line) for line in wide.stderr.splitlines()) < 400 and "and 1,988 more" in wide.stderr

    for name, cause in (("latin1.yaml", "not UTF-8 text (byte 0xff"), ("binary.yaml", "not UTF-8 text"),
                        ("list.yaml", "must be a YAML mapping"), ("broken.yaml", "not valid YAML"),
                        ("unknown_key.yaml", "learning_rate"), ("missing.yaml", "no recipe file")):
        probe.expect("recipes", ["train", bad / name], cause, inputs=(bad / name,))
    for override, cause in (("train.lr=abc", "train.lr"), ("train.epochs=-1", "train.epochs"),
                            ("train.batch_size=0", "train.batch_size"), ("nosuch.key=1", "nosuch"),
                            ("train.method=lorax", "train.method")):
        probe.expect("recipes", ["train", "demo", override], cause)

    for name, cause in (("negative", "hidden_size must be a whole number of at least 1, not -5"),
                        ("zero_layers", "num_hidden_layers must be"), ("no_type", "no model_type"),
                        ("not_json", "not valid JSON"), ("no_config", "has no config.json")):
        probe.expect("model configs", ["memory", "--model", bad / name], cause)
        probe.expect("model configs", ["train", "demo", f"model.name={bad / name}", "--out", bad / f"run-{name}"],
                     cause, absent=(bad / f"run-{name}",))
        if name != "no_config":
            probe.expect("model configs", ["memory", "--model", bad / name / "config.json"], cause)
    probe.expect("model configs", ["memory", "--model", "no-such-model"], "unknown model")

    for args, cause in ((["data", "scan-phi", bad / "good.csv", "--show", "-1"], "--show"),
                        (["data", "preview", bad / "good.csv", "--tokenizer", "x", "--max-length", "0"],
                         "--max-length"),
                        (["data", "preview", bad / "good.csv", "--tokenizer", "x", "--max-length", "-5"],
                         "--max-length"),
                        (["data", "validate", bad / "good.csv", "--max-note-chars", "-1"], "--max-note-chars"),
                        (["data", "generate", "--n", "0", "--out", bad / "g.jsonl"], "--n"),
                        (["data", "generate", "--n", "3", "--seed", "-1", "--out", bad / "g.jsonl"], "--seed"),
                        (["data", "generate", "--n", "3", "--plant-phi", "2", "--out", bad / "g.jsonl"],
                         "--plant-phi"),
                        (["data", "generate", "--n", "3", "--out", bad / "g.txt"], "name the output with"),
                        (["data", "prepare", bad / "good.csv", "--out", bad / "p", "--sample", "0"], "--sample"),
                        (["data", "prepare", bad / "good.csv", "--out", bad / "p", "--test-size", "-1"],
                         "--test-size"),
                        (["train", "demo", "--max-memory", "-5GiB"], "above zero"),
                        (["train", "demo", "--max-memory", "lots"], "not a memory size"),
                        (["train", "demo", "--nproc", "0"], "--nproc"),
                        (["memory", "--model", "smollm2-135m-instruct", "--gpu-memory", "0GB"], "above zero"),
                        (["memory", "--model", "smollm2-135m-instruct", "--seq-len", "0"], "--seq-len"),
                        (["memory", "--model", "smollm2-135m-instruct", "--lora-r", "0"], "--lora-r"),
                        (["memory", "--model", "smollm2-135m-instruct", "--method", "qlorax"], "qlorax"),
                        (["memory", "--model", "smollm2-135m-instruct", "--gpu", "rtx9090"], "rtx9090"),
                        (["serve", "--model", "x", "--port", "70000"], "--port"),
                        (["score", "--predictions", bad / "good.csv", "--bootstrap", "-1"], "--bootstrap"),
                        (["eval", "--model", "x", "--batch-size", "0"], "--batch-size"),
                        (["nosuch"], "No such command"), (["data", "validate", "--bogus"], "No such option")):
        probe.expect("options", args, cause, absent=(bad / "g.jsonl", bad / "p"))

    for args, cause in ((["data", "validate", bad / "notes[bold]" / "x.csv"], "notes[bold]"),
                        (["data", "validate", bad / "a[/x]b.csv"], "a[/x]b.csv"),
                        (["data", "generate", "--n", "3", "--out", "/proc/clintune-x.jsonl"], "/proc/clintune-x"),
                        (["data", "generate", "--n", "3", "--out", bad / "a_file.txt" / "x.jsonl"],
                         "a part of the path is a file"),
                        (["data", "generate", "--n", "3", "--out", bad / "taken"], "is a folder; give a file path"),
                        (["data", "prepare", bad / "good.csv", "--out", bad / "a_file.txt"], "is a file"),
                        (["data", "prepare", bad / "good.csv", "--out", bad / "taken"], "is not empty"),
                        (["data", "prepare", bad / "good.csv", "--out", "/proc/clintune-prepared"],
                         "/proc/clintune-prepared"),
                        (["eval", "--model", "tiny-random-llama", "--data", bad / "good.csv", "--out", bad / "ev",
                          "--judge", "http://127.0.0.1:9/v1", "--judge-model", "x", "--judge-key-env",
                          "CLINTUNE_NO_SUCH_VARIABLE"], "empty or unset"),
                        (["eval", "--model", "tiny-random-llama", "--data", bad / "good.csv", "--out",
                          "/proc/clintune-eval"], "/proc/clintune-eval")):
        probe.expect("paths", args, cause, inputs=(bad / "taken", bad / "a_file.txt"), absent=(bad / "ev",))


def more_data_file_cases(probe: Probe, bad, tiny_model_dir) -> None:
    """The same broken files through every command that reads data: each must say the same thing."""
    files = {"dup.csv": "more than once", "semicolons.csv": "separated by ';'", "tabs.csv": "separated by tabs",
             "commas.tsv": "separated by commas", "empty.csv": "the file is empty", "header_only.csv": "no rows",
             "blank_lines.jsonl": "no rows", "missing.csv": "not found"}
    for name, cause in files.items():
        path = bad / name
        for args in (["data", "stats", path], ["data", "scan-phi", path],
                     ["data", "preview", path, "--tokenizer", tiny_model_dir],
                     ["data", "prepare", path, "--out", bad / "prepared"],
                     ["train", "demo", f"model.name={tiny_model_dir}", f"data.path={path}", "--out", bad / "run"],
                     ["eval", "--model", tiny_model_dir, "--data", path, "--out", bad / "eval"]):
            probe.expect("data files", args, cause, inputs=(path,) if path.exists() else (),
                         absent=(bad / "prepared", bad / "run", bad / "eval"))


def serve_cases(probe: Probe, bad, tiny_model_dir) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        probe.expect("serve", ["serve", "--model", tiny_model_dir, "--port", port], "already in use")
    for host, cause in (("no.such.host.invalid", "does not resolve"), ("10.255.255.1", "not an address of this")):
        probe.expect("serve", ["serve", "--model", tiny_model_dir, "--host", host], cause)
    for args, cause in ((["serve", "--model", tiny_model_dir, "--grace", "-1"], "--grace"),
                        (["serve", "--model", tiny_model_dir, "--max-queue", "0"], "--max-queue"),
                        (["serve", "--model", tiny_model_dir, "--max-body", "10"], "--max-body"),
                        (["serve", "--model", tiny_model_dir, "--api-key-env", "CLINTUNE_NO_SUCH_VARIABLE"],
                         "empty or unset"),
                        (["serve", "--model", bad / "no_type"], "no model_type"),
                        (["serve", "--run", bad / "taken"], ""),
                        (["chat", "--model", bad / "negative"], "hidden_size")):
        probe.expect("serve", args, cause)


KEY = "probe-key-not-a-secret"


@pytest.fixture(scope="module")
def server(tiny_model_dir):
    from clintune.serve.background import start_background_server

    process, url = start_background_server("--model", str(tiny_model_dir), "--api-key-env", "CLINTUNE_PROBE_KEY",
                                           "--max-tokens", "64", "--max-body", "4096",
                                           env_extra={"CLINTUNE_PROBE_KEY": KEY})
    yield url
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)


def http_cases(probe: Probe, url: str) -> None:
    import httpx

    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=120) as client:
        chat = {"messages": [{"role": "user", "content": "Summarise: 67M with CAP."}], "max_tokens": 4}
        plain = {"prompt": "The patient", "max_tokens": 4}
        for path, good in (("/v1/chat/completions", chat), ("/v1/completions", plain)):
            for stream in (False, True):
                for seed in (2**64, 10**30, -1, 2**63, "abc", 1.5):
                    probe.expect_http("server", client, "POST", path, 400, {**good, "stream": stream, "seed": seed},
                                      param="seed")
            # max_tokens 0 is valid for completions (with echo it scores the prompt); a chat answer needs a token.
            zero = (0,) if path == "/v1/chat/completions" else ()
            for field, values in (("max_tokens", (-1, *zero, "x", 10**9, 2**70, 65)),
                                  ("temperature", (-1, 3, "hot", None)), ("top_p", (0, 2, -0.5)),
                                  ("n", (2, 0)), ("stop", (5, [1])), ("stream", ("yes", [])),
                                  ("max_completion_tokens", (-2, 0))):
                for value in values:
                    probe.expect_http("server", client, "POST", path, 400, {**good, field: value}, param=field)
            probe.expect_http("server", client, "POST", path, 404, {**good, "model": "gpt-4o"}, param="model")
            probe.expect_http("server", client, "POST", path, 400, raw=b'{"messages": [', param=None)
            probe.expect_http("server", client, "POST", path, 400, raw=b"[1, 2, 3]")
            probe.expect_http("server", client, "POST", path, 400, raw=b"\xff\xfe\x00garbage")
            probe.expect_http("server", client, "POST", path, 400, raw=b"")
            probe.expect_http("server", client, "POST", path, 413, raw=b'{"x": "' + b"y" * 8000 + b'"}')
            probe.expect_http("server", client, "POST", path, 401, good, headers={"Authorization": "Bearer wrong"})
            probe.expect_http("server", client, "GET", path, 405)
        for messages in ([], [{}], [{"role": "robot", "content": "hi"}], [{"role": "user", "content": 5}],
                         [{"role": "user"}], "hello", None):
            probe.expect_http("server", client, "POST", "/v1/chat/completions", 400,
                              {"messages": messages, "max_tokens": 4}, param="messages")
        for prompt in (5, [], ["a", "b"], None, {"text": "x"}):
            probe.expect_http("server", client, "POST", "/v1/completions", 400, {"prompt": prompt, "max_tokens": 4},
                              param="prompt")
        probe.expect_http("server", client, "GET", "/v1/nothing-here", 404)
        probe.expect_http("server", client, "GET", "/v1/models", 401, headers={"Authorization": "Bearer nope"})


def test_the_bad_input_probe(bad, tiny_model_dir, server, record_property):
    probe = Probe()
    probe_cases(probe, bad)
    more_data_file_cases(probe, bad, tiny_model_dir)
    serve_cases(probe, bad, tiny_model_dir)
    http_cases(probe, server)
    record_property("bad_input_probe", probe.table())  # shown at the end of the test run (conftest.py)
    assert probe.failures() == [], "\n".join(probe.failures())
    assert len(probe.results) >= 200
