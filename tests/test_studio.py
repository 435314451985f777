"""clintune studio over HTTP, on a real server: the actions return what the CLI would, with the command that does
it; bad input is one line; identifiers stay masked; a token guards any other host; both locales are complete."""

import json
import re
import signal
from pathlib import Path

import httpx

from clintune.serve.background import start_background_server

STUDIO = Path(__file__).parent.parent / "src" / "clintune" / "studio"
TOKEN = "studio-test-token-0123456789"


def post(url: str, path: str, body: dict) -> httpx.Response:
    return httpx.post(f"{url}{path}", json=body, timeout=120)


def test_both_locales_have_every_key_the_page_uses():
    en = json.loads((STUDIO / "locales" / "en.json").read_text())
    ko = json.loads((STUDIO / "locales" / "ko.json").read_text())
    assert set(en) == set(ko), set(en) ^ set(ko)
    assert all(value.strip() for value in (*en.values(), *ko.values()))
    html = (STUDIO / "static" / "index.html").read_text()
    script = (STUDIO / "static" / "studio.js").read_text()
    used = set(re.findall(r'data-i18n(?:-placeholder)?="([^"]+)"', html))
    used |= set(re.findall(r'\bt\("([a-z_]+\.[a-z_.]+|[a-z_]+)"', script))
    used |= {f"{prefix}{name}" for prefix in ("phi.",) for name in json.loads(_classes())}
    missing = sorted(key for key in used if key not in en)
    assert not missing, missing
    # Keys built at run time (method.*, unit.*, component.*) exist for every value the API can send.
    from clintune.memory.units import COMPONENTS

    assert {f"component.{c}" for c in (*COMPONENTS, "total")} <= set(en)
    assert {f"method.{m}" for m in ("full", "lora", "qlora", "dora")} <= set(en)
    assert {"unit.characters", "unit.tokens"} <= set(en)
    fields = re.findall(r'\["([a-z_.]+)", "(?:text|number|method)"\]', script)
    assert len(fields) > 10 and {f"field.{key}" for key in fields} <= set(en)
    statuses = ("training", "evaluating", "finished", "interrupted", "failed", "running", "starting")
    assert {f"status.{s}" for s in statuses} <= set(en)
    # Every problem the studio itself reports can be said in both languages, with the same placeholders.
    raised = set()
    for path in (STUDIO).glob("*.py"):
        raised |= set(re.findall(r'StudioError\(\s*"([a-z_]+)"', path.read_text()))
    raised.add("not_signed_in")
    assert len(raised) >= 8 and {f"error.{key}" for key in raised} <= set(en)
    for key in raised:
        assert set(re.findall(r"{(\w+)}", en[f"error.{key}"])) == set(re.findall(r"{(\w+)}", ko[f"error.{key}"]))
    # Korean is Korean: the labels a user reads first are not left in English.
    assert all(re.search("[가-힣]", ko[key]) for key in ("tab.data", "tab.memory", "data.check", "memory.plan"))


def _classes() -> str:
    from clintune.data.phi import CLASSES

    return json.dumps(CLASSES)


def test_data_actions_answer_with_their_command(studio):
    url, runs = studio
    generated = post(url, "/api/data/generate", {"n": 40, "seed": 3, "plant_phi": 0.5}).json()
    path = generated["path"]
    assert Path(path).is_file() and Path(path).parent == runs / "studio-data"
    assert generated["command"] == f"clintune data generate --n 40 --seed 3 --out {path} --plant-phi 0.5"
    validation = post(url, "/api/data/validate", {"path": path}).json()
    assert validation["ok"] and validation["rows"] == 40 and validation["command"] == f"clintune data validate {path}"
    scan = post(url, "/api/data/scan", {"path": path}).json()
    assert scan["summary"]["findings"] > 5 and scan["command"] == f"clintune data scan-phi {path}"
    planted = json.loads(Path(f"{path}.identifiers.json").read_text())["identifiers"]
    rows = [json.loads(line) for line in Path(path).read_text().splitlines()]
    shown = json.dumps(scan["findings"])
    for truth in planted:  # no planted identifier, nor a number or proper name of 4+ characters in one, is shown
        value = rows[truth["row"]][truth["column"]][truth["start"]:truth["end"]]
        words = [w for w in re.findall(r"\w{4,}", value) if (w[0].isupper() or any(c.isdigit() for c in w))
                 and re.search(rf"\b{re.escape(w)}\b", shown)]
        assert value not in shown and not words, (truth["class"], words)
    stats = post(url, "/api/data/stats", {"path": path}).json()
    assert stats["summary"]["rows"] == 40 and httpx.get(url + stats["plot"]).headers["content-type"] == "image/png"
    preview = post(url, "/api/data/preview", {"path": path, "n": 1}).json()
    (example,) = preview["examples"]
    assert example["pieces"][-1][2] is True  # the EOS, trained
    assert "--tokenizer smollm2-135m-instruct" in preview["command"]


def test_bad_input_is_one_line_and_unknown_fields_are_refused(studio):
    url, _ = studio
    missing = post(url, "/api/data/validate", {"path": "/no/such/file.csv"})
    assert missing.status_code == 400 and missing.json()["error"].startswith("data file not found (/no/such/file.csv)")
    unknown = post(url, "/api/data/validate", {"path": "x.csv", "colums": "note=text"})
    assert unknown.status_code == 400 and unknown.json() == {"error": "colums: Extra inputs are not permitted"}
    empty = httpx.post(f"{url}/api/data/upload", params={"name": "notes.csv"}, content=b"")
    assert empty.status_code == 400 and "empty" in empty.json()["error"]
    outside = httpx.get(f"{url}/api/files/../../etc/passwd")
    assert outside.status_code in (400, 404) and "root:" not in outside.text


def test_uploads_land_in_the_runs_folder_whole(studio):
    url, runs = studio
    body = b"note,question,answer\nPt admitted with CAP.,Which infection?,Pneumonia.\n"
    answer = httpx.post(f"{url}/api/data/upload", params={"name": "../../my notes.csv"}, content=body).json()
    path = Path(answer["path"])
    assert path.parent == runs / "studio-data" and path.name.endswith("my_notes.csv") and path.read_bytes() == body
    assert not list(path.parent.glob(".*.partial"))


def test_memory_plan_with_verdict_suggestions_and_chart(studio):
    url, _ = studio
    plan = post(url, "/api/memory/plan", {"model": "smollm2-135m-instruct", "method": "full", "seq_len": 2048,
                                          "batch_size": 16, "gpu": "t4"}).json()
    assert plan["fits"] is False and plan["target"].startswith("t4")
    assert any(s["fits"] and "train.batch_size=1" in s["overrides"] for s in plan["suggestions"])
    assert plan["command"].startswith("clintune memory --model smollm2-135m-instruct --method full --seq-len 2048 "
                                      "--batch-size 16 --plot ") and plan["command"].endswith("--gpu t4")
    assert httpx.get(url + plan["chart"]).headers["content-type"] == "image/png"
    assert [c["key"] for c in plan["components"]][0] == "weights" and plan["components"][-1]["key"] == "total"


def test_another_host_needs_a_token(cli):
    refused = cli("studio", "--host", "0.0.0.0", env_extra={"CLINTUNE_STUDIO_TOKEN": ""})
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.strip().startswith("error: --host 0.0.0.0 makes the studio reachable")
    assert len(refused.stderr.strip().splitlines()) == 1


def test_with_a_token_the_page_and_api_ask_for_it(tmp_path):
    process, url = start_background_server("--runs", str(tmp_path), command="studio", ready="/login",
                                           env_extra={"CLINTUNE_STUDIO_TOKEN": TOKEN})
    try:
        assert httpx.get(f"{url}/api/options").status_code == 401
        assert httpx.get(f"{url}/", follow_redirects=False).headers["location"] == "/login"
        assert httpx.get(f"{url}/api/options", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        with httpx.Client(base_url=url) as client:
            wrong = client.post("/login", data={"token": "guess"}, follow_redirects=False)
            assert wrong.headers["location"] == "/login?wrong=1" and "clintune_studio" not in client.cookies
            client.post("/login", data={"token": TOKEN}, follow_redirects=False)
            assert client.get("/api/options").status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        stderr = process.communicate(timeout=30)[1]
    assert TOKEN not in stderr and TOKEN not in (tmp_path / "studio.log").read_text()


def wait_for(url: str, name: str, ready, what: str, deadline: float = 300) -> dict:
    """Poll the run until `ready(run)`; the deadline only stops a hung test, it is not a speed requirement."""
    import time

    until = time.monotonic() + deadline
    while time.monotonic() < until:
        run = httpx.get(f"{url}/api/runs/{name}", timeout=30).json()
        if ready(run):
            return run
        time.sleep(0.3)
    raise AssertionError(f"{name} never got to: {what}; last seen {run}")


TINY_RUN = ["data.synthetic_rows=400", "data.sample=64", "data.test_size=2", "lora.top_layers=null",
            "train.batch_size=4", "train.save_steps=2", "generation.max_new_tokens=8"]


def test_training_runs_in_the_background_stops_and_resumes(studio, tiny_model_dir):
    url, runs = studio
    overrides = [f"model.name={tiny_model_dir}", *TINY_RUN, "train.max_steps=100000", "name=long"]
    started = post(url, "/api/train/start", {"recipe": "demo", "overrides": overrides}).json()
    name = started["run"]
    assert started["command"].startswith(f"clintune train demo model.name={tiny_model_dir} ")
    assert started["command"].endswith(f"--out {runs / name}")
    first = wait_for(url, name, lambda r: (r["step"] or 0) >= 4 and r["training"], "step 4")
    assert first["max_steps"] == 100000 and first["losses"][0][0] == 1 and first["tokens_per_second"] > 0
    listed = httpx.get(f"{url}/api/runs").json()["runs"]
    assert [r["name"] for r in listed if r["training"]] == [name]
    stop = post(url, f"/api/runs/{name}/stop", {}).json()
    assert stop["stopped"] == "train" and stop["command"].startswith("kill -INT -")
    stopped = wait_for(url, name, lambda r: not r["training"] and r["status"] == "interrupted", "interrupted")
    assert list((runs / name / "checkpoints" / "sft").glob("checkpoint-*"))
    resumed = post(url, f"/api/runs/{name}/resume", {}).json()
    assert resumed["command"] == f"clintune train {runs / name / 'config.yaml'} --out {runs / name} --resume"
    wait_for(url, name, lambda r: (r["step"] or 0) > stopped["step"] + 2, "past the step it stopped at")
    post(url, f"/api/runs/{name}/stop", {})
    wait_for(url, name, lambda r: not r["training"] and r["status"] == "interrupted", "interrupted again")
    refused = post(url, f"/api/runs/{name}/stop", {})
    assert refused.status_code == 400 and "has nothing running" in refused.json()["error"]
    assert refused.json()["key"] == "nothing_running" and refused.json()["values"] == {"name": name}


def test_a_finished_run_is_evaluated_reported_and_chatted_with(studio, tiny_model_dir):
    url, runs = studio
    overrides = [f"model.name={tiny_model_dir}", *TINY_RUN, "train.max_steps=6", "train.lr=5e-2", "name=short"]
    name = post(url, "/api/train/start", {"recipe": "demo", "overrides": overrides}).json()["run"]
    wait_for(url, name, lambda r: r["status"] == "finished" and not r["training"], "finished")
    evaluation = post(url, f"/api/runs/{name}/eval", {"max_new_tokens": 4, "limit": 4}).json()
    assert evaluation["command"] == f"clintune eval --run {runs / name} --compare-base --max-new-tokens 4 --limit 4"
    wait_for(url, name, lambda r: r["evaluated"] and not r["evaluating"], "evaluated")
    metrics = httpx.get(f"{url}/api/runs/{name}/metrics").json()
    assert metrics["tuned"]["overall"]["n"] == 4
    assert set(metrics["base"]["per_task"]) == set(metrics["tuned"]["per_task"])
    report = post(url, f"/api/runs/{name}/report", {}).json()
    assert httpx.get(url + report["report"]).headers["content-type"].startswith("text/html")
    body = {"run": name, "note": "Pt admitted with CAP, treated with ceftriaxone.", "question": "Which antibiotic?",
            "max_tokens": 6}
    with httpx.stream("POST", f"{url}/api/chat", json=body, timeout=120) as response:
        events = [json.loads(line) for line in response.iter_lines() if line]
    assert "[Discharge Summary Begin]\nPt admitted with CAP" in events[0]["prompt"] and events[0]["has_adapter"]
    assert [e["side"] for e in events[1:] if e.get("done")] == ["base", "tuned"]
    base = "".join(e.get("text", "") for e in events if e.get("side") == "base")
    tuned = "".join(e.get("text", "") for e in events if e.get("side") == "tuned")
    assert base != tuned  # the adapter (lr 5e-2) moves the tiny model's answer
    judge = post(url, f"/api/runs/{name}/eval", {"judge": "http://127.0.0.1:9/v1"})
    assert judge.status_code == 400 and "both an endpoint and a model" in judge.json()["error"]
