"""A real `clintune serve` with the tiny model on a free loopback port: the official openai client, plain HTTP,
bad requests, an API key, a burst bigger than the queue, and a clean stop on SIGTERM."""

import concurrent.futures
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import openai
import pytest

KEY = "test-key-not-a-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(model_dir, *extra: str, env_extra: dict | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, **(env_extra or {})}
    process = subprocess.Popen([sys.executable, "-m", "clintune", "serve", "--model", str(model_dir), "--port",
                                str(port), *extra], stderr=subprocess.PIPE, text=True, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited: {process.stderr.read()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.3)
    process.kill()
    raise AssertionError("the server did not come up")


@pytest.fixture(scope="module")
def server(tiny_model_dir):
    process, url = start_server(tiny_model_dir, "--api-key-env", "CLINTUNE_TEST_KEY", "--max-queue", "2",
                                "--max-tokens", "64", "--max-body", "4096", env_extra={"CLINTUNE_TEST_KEY": KEY})
    yield url
    process.send_signal(signal.SIGTERM)
    stderr = process.communicate(timeout=30)[1]
    assert process.returncode == 0 and "Traceback" not in stderr and "stopped" in stderr
    assert KEY not in stderr  # the key is never printed


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
])
def test_bad_requests_get_4xx_in_the_openai_error_shape(server, body, status, param):
    response = httpx.post(f"{server}/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY}"},
                          timeout=30)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["message"] and error["type"] and error["param"] == param


def test_no_key_or_a_wrong_key_is_401_and_health_stays_open(server):
    body = {"messages": [{"role": "user", "content": "hi"}]}
    assert httpx.post(f"{server}/v1/chat/completions", json=body, timeout=30).status_code == 401
    wrong = httpx.get(f"{server}/v1/models", headers={"Authorization": "Bearer nope"}, timeout=30)
    assert wrong.status_code == 401 and wrong.json()["error"]["type"] == "authentication_error"
    assert httpx.get(f"{server}/health", timeout=30).status_code == 200
    broken = httpx.post(f"{server}/v1/completions", content=b"{bad", timeout=30,
                        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
    assert broken.status_code == 400 and "not valid JSON" in broken.json()["error"]["message"]


def test_a_burst_bigger_than_the_queue_gets_429_not_a_crash(server):
    body = {"prompt": "The patient", "max_tokens": 64, "temperature": 0}

    def ask(_):
        return httpx.post(f"{server}/v1/completions", json=body, headers={"Authorization": f"Bearer {KEY}"},
                          timeout=120).status_code

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(ask, range(12)))
    assert codes.count(429) > 0 and codes.count(200) >= 1
    assert all(code in (200, 429) for code in codes)
    assert httpx.get(f"{server}/health", timeout=30).json()["status"] == "ok"


def test_an_unset_api_key_variable_is_one_line_exit_2(cli, tiny_model_dir):
    result = cli("serve", "--model", str(tiny_model_dir), "--api-key-env", "CLINTUNE_NO_SUCH_VARIABLE")
    assert result.returncode == 2 and "CLINTUNE_NO_SUCH_VARIABLE" in result.stderr
    assert "Traceback" not in result.stderr
