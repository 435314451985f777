"""The one client for OpenAI-compatible chat endpoints (OpenAI, vLLM, Ollama, `clintune serve`), shared by
`clintune synth` and the judge: the `openai` package's client, with clintune's per-minute budgets in front of it.

The openai client retries 408, 409, 429, 5xx and dropped connections itself (exponential backoff with jitter,
honouring Retry-After); what it adds here is keeping to requests-per-minute and tokens-per-minute budgets across
threads, and one-line errors. The API key is sent in the Authorization header and appears nowhere else: not in
errors, logs or reprs.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import openai


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
                 tpm: int | None = None, retries: int = 5, timeout: float = 120.0):
        base = base_url.rstrip("/")
        self.url = base if base.endswith("/v1") else f"{base}/v1"
        self.model, self.retries = model, retries
        # An explicit placeholder when there is no key: left empty, the openai client would send OPENAI_API_KEY from
        # the environment to whatever server this is.
        self.client = openai.OpenAI(base_url=self.url, api_key=api_key or "no-key", max_retries=retries,
                                    timeout=timeout)
        self.budget = RateBudget(rpm, tpm)
        self.usage_lock = threading.Lock()
        self.tokens_used = 0

    def __repr__(self) -> str:
        return f"ChatClient({self.url!r}, model={self.model!r})"

    def close(self) -> None:
        self.client.close()

    def chat(self, messages: list[dict], temperature: float = 1.0, max_tokens: int = 1024) -> Reply:
        self.budget.acquire()
        try:
            completion = self.client.chat.completions.create(model=self.model, messages=messages,
                                                             temperature=temperature, max_tokens=max_tokens)
        except openai.APIStatusError as exc:
            attempts = f" (after {self.retries + 1} attempts)" if _retried(exc.status_code) else ""
            raise TeacherError(f"HTTP {exc.status_code}: {_message(exc)}{attempts}") from None
        except openai.APIConnectionError as exc:  # refused, reset or timed out, after the client's retries
            raise TeacherError(f"{type(exc).__name__} (after {self.retries + 1} attempts)") from None
        except openai.APIError:
            raise TeacherError("the teacher's reply is not an OpenAI chat completion") from None
        try:
            text = completion.choices[0].message.content or ""
        except (AttributeError, IndexError, TypeError):
            raise TeacherError("the teacher's reply is not an OpenAI chat completion") from None
        usage = completion.usage
        prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
        reply_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        self.budget.spent(prompt + reply_tokens)
        with self.usage_lock:
            self.tokens_used += prompt + reply_tokens
        return Reply(text, prompt, reply_tokens)


def _retried(status: int) -> bool:
    """The statuses the openai client retries before giving up."""
    return status in (408, 409, 429) or status >= 500


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        text = inner.get("message") if isinstance(inner, dict) else inner
        return str(text)[:200]
    return str(exc.message)[:200]
