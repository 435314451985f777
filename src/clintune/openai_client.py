"""The one client for OpenAI-compatible chat endpoints (OpenAI, vLLM, Ollama, `clintune serve`), shared by
`clintune synth` and the judge.

It keeps to requests-per-minute and tokens-per-minute budgets, retries 429, 5xx and network failures with
exponential backoff (honouring Retry-After), and is safe to call from several threads. The API key is sent in the
Authorization header and appears nowhere else: not in errors, logs or reprs.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import dataclass

import httpx

RETRYABLE = {408, 409, 425, 429, 500, 502, 503, 504}


class TeacherError(Exception):
    """A request that failed for good (after its retries, or at once for a 4xx that retrying cannot fix)."""


@dataclass
class Reply:
    text: str
    prompt_tokens: int
    completion_tokens: int


class RateBudget:
    """Waits so that request starts stay under `rpm` and tokens used in any 60 s window under `tpm`."""

    def __init__(self, rpm: int | None, tpm: int | None, clock=time.monotonic, sleep=time.sleep):
        self.rpm, self.tpm, self.clock, self.sleep = rpm, tpm, clock, sleep
        self.starts: deque[float] = deque()
        self.tokens: deque[tuple[float, int]] = deque()
        self.lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self.lock:
                now = self.clock()
                while self.starts and now - self.starts[0] >= 60:
                    self.starts.popleft()
                while self.tokens and now - self.tokens[0][0] >= 60:
                    self.tokens.popleft()
                waits = []
                if self.rpm and len(self.starts) >= self.rpm:
                    waits.append(60 - (now - self.starts[0]))
                if self.tpm and sum(n for _, n in self.tokens) >= self.tpm:
                    waits.append(60 - (now - self.tokens[0][0]))
                if not waits:
                    self.starts.append(now)
                    return
            self.sleep(max(min(waits), 0.01))

    def spent(self, tokens: int) -> None:
        with self.lock:
            self.tokens.append((self.clock(), tokens))


class ChatClient:
    def __init__(self, base_url: str, model: str, api_key: str | None = None, rpm: int | None = None,
                 tpm: int | None = None, retries: int = 5, timeout: float = 120.0, backoff: float = 1.0):
        self.url = base_url.rstrip("/") + ("/chat/completions" if base_url.rstrip("/").endswith("/v1")
                                           else "/v1/chat/completions")
        self.model, self.retries, self.backoff = model, retries, backoff
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(timeout=timeout, headers=headers)
        self.budget = RateBudget(rpm, tpm)
        self.usage_lock = threading.Lock()
        self.tokens_used = 0

    def __repr__(self) -> str:
        return f"ChatClient({self.url!r}, model={self.model!r})"

    def close(self) -> None:
        self.http.close()

    def chat(self, messages: list[dict], temperature: float = 1.0, max_tokens: int = 1024) -> Reply:
        body = {"model": self.model, "messages": messages, "temperature": temperature, "max_tokens": max_tokens}
        for attempt in range(self.retries + 1):
            self.budget.acquire()
            try:
                response = self.http.post(self.url, json=body)
            except httpx.TransportError as exc:
                problem, wait = f"{type(exc).__name__}", None
            else:
                if response.status_code == 200:
                    return self._reply(response)
                problem = f"HTTP {response.status_code}: {_message(response)}"
                if response.status_code not in RETRYABLE:
                    raise TeacherError(problem)
                wait = _retry_after(response)
            if attempt == self.retries:
                raise TeacherError(f"{problem} (after {self.retries + 1} attempts)")
            time.sleep(wait if wait is not None else self.backoff * 2**attempt * (0.5 + random.random()))
        raise AssertionError("unreachable")

    def _reply(self, response: httpx.Response) -> Reply:
        try:
            data = response.json()
            text = data["choices"][0]["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError):
            raise TeacherError("the teacher's reply is not an OpenAI chat completion") from None
        usage = data.get("usage") or {}
        prompt, completion = int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
        self.budget.spent(prompt + completion)
        with self.usage_lock:
            self.tokens_used += prompt + completion
        return Reply(text, prompt, completion)


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])[:200]
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return min(float(value), 60.0) if value else None
    except ValueError:
        return None
