"""What harnesses need from `clintune serve` beyond chat: token-id prompts, echo, logprobs (with top_logprobs),
max_tokens 0, and the tokenizer endpoints, against a real server and checked against the model run in process."""

import httpx
import openai
import pytest
import torch

from clintune.models.load import load_model, load_tokenizer

PROMPT = "The patient was admitted with pneumonia and treated with"


@pytest.fixture(scope="module")
def server(tiny_model_dir, start_server):
    process, url = start_server(tiny_model_dir, "--max-tokens", "32")
    yield url
    process.terminate()
    process.communicate(timeout=30)


@pytest.fixture(scope="module")
def reference(tiny_model_dir):
    """The served model in this process: every log-probability the server reports is checked against it."""
    return load_model(str(tiny_model_dir)).eval(), load_tokenizer(str(tiny_model_dir))


def _logprobs_in_process(model, ids: list[int]) -> torch.Tensor:
    with torch.no_grad():
        return torch.log_softmax(model(torch.tensor([ids])).logits[0].float(), -1)


def test_echo_with_max_tokens_0_scores_every_prompt_token_as_the_model_does(server, reference):
    model, tokenizer = reference
    ids = tokenizer(PROMPT)["input_ids"]
    body = {"prompt": ids, "max_tokens": 0, "echo": True, "logprobs": 3, "temperature": 0}
    answer = httpx.post(f"{server}/v1/completions", json=body, timeout=60).json()
    choice = answer["choices"][0]
    assert choice["text"] == tokenizer.decode(ids) and answer["usage"]["completion_tokens"] == 0
    logprobs = choice["logprobs"]
    assert len(logprobs["tokens"]) == len(ids) and logprobs["token_logprobs"][0] is None
    expected = _logprobs_in_process(model, ids)
    for position, token in enumerate(ids[1:], start=1):
        assert logprobs["token_logprobs"][position] == pytest.approx(float(expected[position - 1, token]), abs=1e-5)
        top = logprobs["top_logprobs"][position]
        assert len(top) <= 3 and max(top.values()) == pytest.approx(float(expected[position - 1].max()), abs=1e-5)
    assert logprobs["text_offset"][1] == len(logprobs["tokens"][0])


def test_a_token_id_prompt_answers_as_its_text_does(server, reference):
    _, tokenizer = reference
    ids = tokenizer(PROMPT)["input_ids"]
    by_text = httpx.post(f"{server}/v1/completions", json={"prompt": PROMPT, "max_tokens": 8, "temperature": 0},
                         timeout=60).json()
    by_ids = httpx.post(f"{server}/v1/completions", json={"prompt": [ids], "max_tokens": 8, "temperature": 0},
                        timeout=60).json()
    assert by_ids["choices"][0]["text"] == by_text["choices"][0]["text"]
    assert by_ids["usage"] == by_text["usage"]
    bad = httpx.post(f"{server}/v1/completions", json={"prompt": [10**9], "max_tokens": 1}, timeout=60)
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "prompt"
    two = httpx.post(f"{server}/v1/completions", json={"prompt": [ids, ids], "max_tokens": 1}, timeout=60)
    assert two.status_code == 400 and "one prompt per request" in two.json()["error"]["message"]


def test_the_openai_client_reads_completion_and_chat_logprobs(server, reference):
    model, tokenizer = reference
    client = openai.OpenAI(base_url=f"{server}/v1", api_key="none", max_retries=0)
    served = client.models.list().data[0].id
    completion = client.completions.create(model=served, prompt=PROMPT, max_tokens=5, temperature=0, logprobs=2)
    logprobs = completion.choices[0].logprobs
    assert len(logprobs.tokens) == completion.usage.completion_tokens == len(logprobs.token_logprobs)
    assert "".join(logprobs.tokens).startswith(completion.choices[0].text)
    ids = tokenizer(PROMPT)["input_ids"] + tokenizer(completion.choices[0].text, add_special_tokens=False)["input_ids"]
    first = _logprobs_in_process(model, ids)[len(tokenizer(PROMPT)["input_ids"]) - 1]
    assert logprobs.token_logprobs[0] == pytest.approx(float(first.max()), abs=1e-5)  # greedy: the top token
    chat = client.chat.completions.create(model=served, messages=[{"role": "user", "content": PROMPT}], max_tokens=4,
                                          temperature=0, logprobs=True, top_logprobs=2)
    content = chat.choices[0].logprobs.content
    assert len(content) == chat.usage.completion_tokens and all(len(entry.top_logprobs) == 2 for entry in content)
    assert all(entry.logprob == pytest.approx(entry.top_logprobs[0].logprob, abs=1e-6) for entry in content)
    plain = client.chat.completions.create(model=served, messages=[{"role": "user", "content": PROMPT}], max_tokens=2)
    assert plain.choices[0].logprobs is None


def test_tokenizer_endpoints_match_the_served_tokenizer(server, reference):
    _, tokenizer = reference
    info = httpx.get(f"{server}/tokenizer_info", timeout=30).json()
    assert info["eos_token"] == tokenizer.eos_token and info["chat_template"] == tokenizer.chat_template
    assert info["model_max_length"] == 1024
    tokens = httpx.post(f"{server}/tokenize", json={"prompt": PROMPT, "add_special_tokens": False}, timeout=30).json()
    assert tokens["tokens"] == tokenizer(PROMPT, add_special_tokens=False)["input_ids"]
    assert tokens["count"] == len(tokens["tokens"])
    back = httpx.post(f"{server}/detokenize", json={"tokens": tokens["tokens"]}, timeout=30).json()
    assert back["prompt"] == PROMPT
    unknown = httpx.post(f"{server}/tokenize", json={"prompt": "x", "messages": []}, timeout=30)
    assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "messages"
