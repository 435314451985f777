"""A stand-in for the external judge model (GPT-4o in the Asclepius paper): a real OpenAI-compatible HTTP server on
127.0.0.1 whose grades are read off its own prompt, so whatever reached the judge shows in what it replies.

For each agent label it takes the text after the first `<<<AGENT X` marker in the prompt, up to `AGENT X>>>`, and
grades it by the first digit 1-4 in it (else 1 + length % 4); the reply's first line holds the grades, the rest
echoes the graded texts. Pairwise prompts get A, B or tie from the same grades. An instruction containing "mumble"
gets an unparseable reply. So a candidate moved to the wrong position, or a note whose fake agent block escaped its
fence, changes the scores the test sees. `fail_next` answers that many requests with `fail_status` first.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def grade(text: str) -> int:
    digit = re.search(r"[1-4]", text)
    return int(digit.group()) if digit else 1 + len(text.strip()) % 4


def agent_texts(prompt: str) -> dict[str, str]:
    texts = {}
    for label in dict.fromkeys(re.findall(r"<<<AGENT ([A-Z])\n", prompt)):
        start = prompt.index(f"<<<AGENT {label}\n") + len(f"<<<AGENT {label}\n")
        end = prompt.find(f"\nAGENT {label}>>>", start)
        texts[label] = prompt[start:end if end >= 0 else len(prompt)]
    return texts


def reply_to(prompt: str) -> str:
    if "mumble" in prompt:
        return "I think both are fine."
    texts = agent_texts(prompt)
    grades = {label: grade(text) for label, text in texts.items()}
    if "Which agent answered better" in prompt:
        return "A" if grades["A"] > grades["B"] else "B" if grades["B"] > grades["A"] else "tie"
    echoed = "\n".join(f"{label} read: {text}" for label, text in texts.items())
    return ", ".join(f"{label}: {score}" for label, score in sorted(grades.items())) + "\n" + echoed


class EchoJudge:
    def __init__(self):
        self.requests = 0
        self.fail_next, self.fail_status = 0, 503
        self.lock = threading.Lock()
        judge = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_):
                pass

            def do_POST(self):  # noqa: N802 - the name http.server calls
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with judge.lock:
                    judge.requests += 1
                    failing = judge.fail_next > 0
                    judge.fail_next -= failing
                if failing:
                    return self._send(judge.fail_status, {"error": {"message": "try again"}},
                                      {"retry-after-ms": "10"})
                text = reply_to(body["messages"][-1]["content"])
                return self._send(200, {"id": "echo", "object": "chat.completion", "created": 0, "model": body["model"],
                                        "choices": [{"index": 0, "finish_reason": "stop",
                                                     "message": {"role": "assistant", "content": text}}],
                                        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})

            def _send(self, status: int, payload: dict, headers: dict | None = None):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> EchoJudge:
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.server.shutdown()
        self.server.server_close()
