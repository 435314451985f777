"""A real `clintune serve` with the tiny model on a free loopback port: the official openai client, plain HTTP,
bad requests, an API key, a burst bigger than the queue, and a clean stop on SIGTERM."""

import concurrent.futures
import json
import os
import re
import signal
import subprocess
import sys
import time

import httpx
import openai
import pytest

KEY = "test-key-not-a-secret"


@pytest.fixture(scope="module")
def server(tiny_model_dir, start_server):
    process, url = start_server(tiny_model_dir, "--api-key-env", "CLINTUNE_TEST_KEY", "--max-queue", "2",
                                "--max-tokens", "64", "--max-body", "4096", env_extra={"CLINTUNE_TEST_KEY": KEY})
    yield url
    process.send_signal(signal.SIGTERM)
    stderr = process.communicate(timeout=30)[1]
    assert process.returncode == 0 and "Traceback" not in stderr and "stopped" in stderr
    assert KEY not in stderr  # the key is never printed
    # One access line per request, with status, latency and tokens, and none of the text sent or generated.
    assert re.search(r"^POST /v1/chat/completions 200 \d+ ms prompt \d+ completion \d+ tokens$", stderr, re.M)
    assert re.search(r"^POST /v1/chat/completions 401 \d+ ms$", stderr, re.M)
    assert "ceftriaxone" not in stderr and "admitted with" not in stderr


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=f"{server}/v1", api_key=KEY, max_retries=0)


def test_the_openai_client_gets_chat_answers_and_the_same_answer_streamed(client):
    messages = [{"role": "user", "content": "Summarise: 67M admitted with CAP, treated with ceftriaxone."}]
    (model,) = client.models.list().data
    answer = client.chat.completions.create(model=model.id, messages=messages, max_tokens=16, temperature=0)
    text = answer.choices[0].message.content
    assert text and answer.choices[0].finish_reason in ("stop", "length")
    assert answer.usage.completion_tokens <= 16 and answer.usage.prompt_tokens > 10
    stream = client.chat.completions.create(model=model.id, messages=messages, max_tokens=16, temperature=0,
                                            stream=True)
    pieces = [chunk.choices[0].delta.content or "" for chunk in stream]
    assert "".join(pieces) == text  # greedy: streaming changes the delivery, not the answer


def test_plain_http_completions_with_a_stop_string(server):
    headers = {"Authorization": f"Bearer {KEY}"}
    body = {"prompt": "The patient was admitted with", "max_tokens": 24, "temperature": 0}
    full = httpx.post(f"{server}/v1/completions", json=body, headers=headers, timeout=60).json()
    text = full["choices"][0]["text"]
    assert full["object"] == "text_completion" and text
    stop = text[len(text) // 2:][:3]
    cut = httpx.post(f"{server}/v1/completions", json={**body, "stop": [stop]}, headers=headers, timeout=60).json()
    assert cut["choices"][0]["text"] == text[:text.find(stop)]
    assert cut["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize("body, status, param", [
    ({"messages": []}, 400, "messages"),
    ({"messages": [{"role": "robot", "content": "hi"}]}, 400, "messages.0.role"),
    ({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 65}, 400, "max_tokens"),
    ({"messages": [{"role": "user", "content": "hi"}], "temperature": 7}, 400, "temperature"),
    ({"messages": [{"role": "user", "content": "hi"}], "n": 2}, 400, "n"),
    ({"messages": [{"role": "user", "content": "hi"}], "model": "gpt-4"}, 404, "model"),
    ({"messages": [{"role": "user", "content": "x" * 5000}]}, 413, None),
    # A field the server would otherwise ignore is refused by name, never silently dropped.
    ({"messages": [{"role": "user", "content": "hi"}], "logprobs": "yes"}, 400, "logprobs"),
    ({"messages": [{"role": "user", "content": "hi"}], "top_logprobs": 5}, 400, "top_logprobs"),  # without logprobs
    ({"messages": [{"role": "user", "content": "hi"}], "logprobs": True, "stream": True}, 400, "logprobs"),
    ({"messages": [{"role": "user", "content": "hi"}], "presence_penalty": 0.5}, 400, "presence_penalty"),
    ({"messages": [{"role": "user", "content": "hi"}], "temprature": 0}, 400, "temprature"),
])
def test_bad_requests_get_4xx_in_the_openai_error_shape(server, body, status, param):
    response = httpx.post(f"{server}/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY}"},
                          timeout=30)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["message"] and error["type"] and error["param"] == param


def test_fields_sent_at_the_value_that_asks_for_nothing_are_accepted(server):
    headers = {"Authorization": f"Bearer {KEY}"}
    body = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2, "logprobs": False,
            "presence_penalty": 0, "frequency_penalty": 0.0, "user": "ward-7", "response_format": {"type": "text"}}
    assert httpx.post(f"{server}/v1/chat/completions", json=body, headers=headers, timeout=60).status_code == 200
    best_of = httpx.post(f"{server}/v1/completions", json={"prompt": "The patient", "max_tokens": 2, "best_of": 3},
                         headers=headers, timeout=60)
    error = best_of.json()["error"]
    assert best_of.status_code == 400 and error["param"] == "best_of"
    assert error["code"] == "unsupported_field" and "not ignored" in error["message"]


def test_no_key_or_a_wrong_key_is_401_and_health_stays_open(server):
    body = {"messages": [{"role": "user", "content": "hi"}]}
    assert httpx.post(f"{server}/v1/chat/completions", json=body, timeout=30).status_code == 401
    wrong = httpx.get(f"{server}/v1/models", headers={"Authorization": "Bearer nope"}, timeout=30)
    assert wrong.status_code == 401 and wrong.json()["error"]["type"] == "authentication_error"
    assert httpx.get(f"{server}/health", timeout=30).status_code == 200
    broken = httpx.post(f"{server}/v1/completions", content=b"{bad", timeout=30,
                        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
    assert broken.status_code == 400 and "not valid JSON" in broken.json()["error"]["message"]


def test_a_full_queue_is_refused_at_once_and_what_waits_is_served(tiny_model_dir):
    # The worker is not started until the queue is full, so nothing drains it early: no timing involved.
    import asyncio

    from clintune.serve.engine import Generated, Sampling, open_served
    from clintune.serve.worker import GenerationWorker, Job, QueueFull, ShuttingDown

    served = open_served(None, str(tiny_model_dir), None)
    worker, loop = GenerationWorker(served, max_queue=2), asyncio.new_event_loop()
    ids = served.tokenizer("The patient").input_ids
    jobs = [Job(ids, Sampling(max_tokens=4), loop) for _ in range(2)]
    for job in jobs:
        worker.submit(job)
    with pytest.raises(QueueFull, match="2 requests are already waiting"):
        worker.submit(Job(ids, Sampling(max_tokens=4), loop))
    worker.start()

    async def result(job):
        while not isinstance(item := await job.pieces.get(), Generated | Exception):
            pass
        return item

    finished = [loop.run_until_complete(result(job)) for job in jobs]
    assert all(isinstance(item, Generated) and item.completion_tokens >= 1 for item in finished)
    worker.stop()
    with pytest.raises(ShuttingDown):
        worker.submit(Job(ids, Sampling(max_tokens=4), loop))
    loop.close()


def test_a_client_that_disconnects_frees_its_slot_at_once(tiny_model_dir):
    # The app over ASGI with its worker never started, so both requests stay queued until their clients hang up:
    # the slots must come free then, not when a generation would have reached them. No timing involved.
    import asyncio

    from clintune.serve.app import ServerLimits, create_app
    from clintune.serve.engine import open_served

    app = create_app(open_served(None, str(tiny_model_dir), None), ServerLimits(max_queue=2))

    async def call(method: str, path: str, body: dict | None = None, hang_up: asyncio.Event | None = None):
        sent, raw = [], json.dumps(body or {}).encode()
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "path": path,
                 "raw_path": path.encode(), "query_string": b"", "root_path": "", "scheme": "http",
                 "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())],
                 "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2)}
        messages = [{"type": "http.request", "body": raw, "more_body": False}]

        async def receive():
            if messages:
                return messages.pop(0)
            await (hang_up.wait() if hang_up else asyncio.Event().wait())
            return {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        await app(scope, receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        body_bytes = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return start["status"], json.loads(body_bytes) if body_bytes else None

    async def scenario():
        hang_up = asyncio.Event()
        ask = {"prompt": "The patient", "max_tokens": 8}
        waiting = [asyncio.create_task(call("POST", "/v1/completions", ask, hang_up)) for _ in range(2)]
        while (await call("GET", "/health"))[1]["queued"] < 2:
            await asyncio.sleep(0.01)
        assert (await call("POST", "/v1/completions", ask))[0] == 429  # the queue is full
        hang_up.set()
        answered = await asyncio.wait_for(asyncio.gather(*waiting), 120)  # a bound, so a broken build fails
        assert [status for status, _ in answered] == [499, 499]
        health = (await call("GET", "/health"))[1]
        assert health["queued"] == 0 and health["cancelled"] == 2
        third = asyncio.create_task(call("POST", "/v1/completions", ask))  # the freed slot takes a new request
        while (await call("GET", "/health"))[1]["queued"] < 1:
            await asyncio.sleep(0.01)
        third.cancel()

    asyncio.run(scenario())


def test_a_stop_signal_answers_every_request_and_never_500(tiny_model_dir):
    # SIGTERM while requests run and wait: each gets its answer (finished within the grace period) or 503 with
    # Retry-After, never a 500; the server exits 0. How many finish depends on speed; that none fails does not.
    from clintune.serve.background import start_background_server

    process, url = start_background_server("--model", str(tiny_model_dir), "--max-tokens", "1000", "--grace", "1")
    body = {"prompt": "The patient", "max_tokens": 1000, "temperature": 1.0}

    def ask(i):
        return httpx.post(f"{url}/v1/completions", json={**body, "stream": i == 0}, timeout=120)

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(ask, i) for i in range(6)]
        # Signal once the server holds all six: a request still on its way when the server stops listening is
        # closed unanswered by uvicorn, which says nothing about how the server drains what it accepted.
        while httpx.get(f"{url}/health", timeout=30).json()["accepted"] < 6:
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        responses = [f.result() for f in futures]
    assert {r.status_code for r in responses} <= {200, 503}
    assert all(r.headers.get("retry-after") for r in responses if r.status_code == 503)
    assert all(r.json()["error"]["code"] == "shutting_down" for r in responses if r.status_code == 503)
    stderr = process.communicate(timeout=60)[1]
    assert process.returncode == 0 and "Traceback" not in stderr and "stopped" in stderr


def test_a_burst_bigger_than_the_queue_never_crashes_the_server(server):
    # How many of the burst get 429 depends on how fast the model generates; that none fails otherwise does not.
    body = {"prompt": "The patient", "max_tokens": 64, "temperature": 0}

    def ask(_):
        response = httpx.post(f"{server}/v1/completions", json=body, headers={"Authorization": f"Bearer {KEY}"},
                              timeout=120)
        if response.status_code == 429:
            assert response.json()["error"]["type"] and response.headers.get("retry-after")
        return response.status_code

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(ask, range(12)))
    assert codes.count(200) >= 1 and all(code in (200, 429) for code in codes)
    assert httpx.get(f"{server}/health", timeout=30).json()["status"] == "ok"


def test_an_unset_api_key_variable_is_one_line_exit_2(cli, tiny_model_dir):
    result = cli("serve", "--model", str(tiny_model_dir), "--api-key-env", "CLINTUNE_NO_SUCH_VARIABLE")
    assert result.returncode == 2 and "CLINTUNE_NO_SUCH_VARIABLE" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def case_reports(tmp_path_factory):
    import csv

    from clintune.data.generate import generate_rows

    path = tmp_path_factory.mktemp("cases") / "pmc_patients.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient_uid", "patient"])  # PMC-Patients' text column
        for i, row in enumerate(generate_rows(40, seed=5)):
            writer.writerow([f"case-{i}", row["note"][:600]])
    return path


def synth_args(server, case_reports, out, n):
    return ["synth", "--teacher", f"{server}/v1", "--teacher-model", "tiny-random-llama", "--source",
            str(case_reports), "--text-column", "patient", "--out", str(out), "--n", str(n), "--max-tokens", "24",
            "--concurrency", "2", "--api-key-env", "CLINTUNE_TEST_KEY"]


def test_synth_against_the_server_writes_rows_that_validate(cli, server, case_reports, tmp_path):
    out = tmp_path / "synthetic.jsonl"
    result = cli(*synth_args(server, case_reports, out, 4), env_extra={"CLINTUNE_TEST_KEY": KEY})
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 4 and all(set(r) == {"patient_id", "note", "question", "answer", "task"} for r in rows)
    assert cli("data", "validate", str(out)).returncode == 0
    summary = json.loads((tmp_path / "synthetic.synth.json").read_text())
    assert summary["rows"] == 4 and summary["tokens"] > 0 and KEY not in json.dumps(summary)


def test_synth_killed_mid_run_then_rerun_gives_exactly_n_rows_without_duplicates(cli, server, case_reports,
                                                                                  tmp_path):
    # kill -9 right after the third row is written: the process kills itself from synthesize's own progress
    # callback (called once a row is durably appended), so no timing is involved.
    out, n = tmp_path / "synthetic.jsonl", 10
    code = ("import os, signal, sys\n"
            "from pathlib import Path\n"
            "from clintune import api\n"
            "def progress(accepted, wanted, tokens):\n"
            "    if accepted == 3:\n"
            "        os.kill(os.getpid(), signal.SIGKILL)\n"
            "api.synthesize(sys.argv[1], 'tiny-random-llama', sys.argv[2], Path(sys.argv[3]), text_column='patient',\n"
            "               n=10, max_tokens=24, concurrency=2, api_key=os.environ['CLINTUNE_TEST_KEY'],\n"
            "               on_progress=progress)\n")
    killed = subprocess.run([sys.executable, "-c", code, f"{server}/v1", str(case_reports), str(out)],
                            env={**os.environ, "CLINTUNE_TEST_KEY": KEY}, capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    before = len(out.read_text().splitlines())
    assert before == 3
    rerun = cli(*synth_args(server, case_reports, out, n), env_extra={"CLINTUNE_TEST_KEY": KEY})
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    ids = [json.loads(line)["patient_id"] for line in out.read_text().splitlines()]
    assert len(ids) == n and len(set(ids)) == n
    assert f"(+{n - before} now" in rerun.stderr
    assert cli("data", "validate", str(out)).returncode == 0
