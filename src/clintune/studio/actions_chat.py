"""The Chat tab's action: one note and one question, answered by the base model and by the tuned one (the run's
adapter off, then on), each streamed as it is generated, with the exact prompt both were sent.

The answers arrive as JSON lines: {"prompt", "command"}, then {"side": "base"|"tuned", "text": piece} pieces, then
{"side", "done": true} for each side (or {"side", "error"}); the page draws them side by side.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import Field

from clintune import api
from clintune.errors import ClintuneError
from clintune.studio.common import Request_, command, no_run


class ChatRequest(Request_):
    run: str = Field(min_length=1)
    note: str = Field(min_length=1, max_length=100_000)
    question: str = Field(min_length=1, max_length=4_000)
    max_tokens: int = Field(128, ge=1, le=1024)


class _Pieces:
    """A text stream for ChatSession.answer that hands each piece to the response as it is generated."""

    def __init__(self, side: str, out: queue.Queue):
        self.side, self.out = side, out

    def write(self, piece: str) -> None:
        if piece:
            self.out.put({"side": self.side, "text": piece})

    def flush(self) -> None:
        pass


def chat_routes(runs: Path) -> APIRouter:
    router = APIRouter()
    loaded: dict[Path, object] = {}  # the last run chatted with stays loaded; one at a time keeps memory flat
    generating = threading.Lock()  # one answer at a time: both share the CPU (or GPU) anyway

    def session_for(name: str):
        path = (runs / name).resolve()
        if path.parent != runs or not (path / "config.yaml").is_file():
            raise no_run(name, runs)
        if path not in loaded:
            loaded.clear()
            loaded[path] = api.chat(run=path)
        return path, loaded[path]

    @router.post("/api/chat")
    def chat(request: ChatRequest) -> StreamingResponse:
        path, session = session_for(request.run)
        with generating:
            session.note, session.max_tokens = request.note.strip(), request.max_tokens
            prompt = session.prompt(request.question)
        header = {"prompt": prompt, "has_adapter": session.served.has_adapter,
                  "command": command(["clintune", "chat", "--run", path, "--note", "NOTE.txt", "--max-tokens",
                                      request.max_tokens]) + "   # then the question; /base and /tuned switch"}
        return StreamingResponse(_answers(session, request, header, generating), media_type="application/x-ndjson")

    return router


def _answers(session, request: ChatRequest, header: dict, generating: threading.Lock) -> Iterator[bytes]:
    yield (json.dumps(header) + "\n").encode()
    for side in ("base", "tuned"):
        if side == "base" and not session.served.has_adapter:
            yield (json.dumps({"side": side, "error": "this run trained the whole model: there is no adapter to "
                                                      "switch off, so no base answer to compare"}) + "\n").encode()
            continue
        pieces: queue.Queue = queue.Queue()

        def work(side=side, pieces=pieces) -> None:
            with generating:
                try:
                    session.note, session.max_tokens, session.tuned = request.note.strip(), request.max_tokens, \
                        side == "tuned"
                    session.answer(request.question, _Pieces(side, pieces))
                    pieces.put({"side": side, "done": True})
                except ClintuneError as error:
                    pieces.put({"side": side, "error": error.one_line()})
                except Exception as error:  # the page gets one line; the studio log keeps nothing sensitive
                    pieces.put({"side": side, "error": f"internal error ({type(error).__name__})"})

        threading.Thread(target=work, daemon=True).start()
        while True:
            event = pieces.get()
            yield (json.dumps(event) + "\n").encode()
            if "done" in event or "error" in event:
                break
