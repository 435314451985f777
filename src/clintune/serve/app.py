"""The OpenAI-compatible HTTP API (FastAPI): /v1/models, /v1/chat/completions (with server-sent events),
/v1/completions and /health. Every error has OpenAI's shape: {"error": {"message", "type", "param", "code"}}."""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import time
import uuid
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool
from starlette.exceptions import HTTPException as StarletteHTTPException

from clintune.models.load import Trained
from clintune.serve.engine import Generated, Sampling
from clintune.serve.worker import GenerationWorker, Job, QueueFull, ShuttingDown

_UNION_BRANCH = re.compile(r"^(str|int|float|bool|list|dict|none)$|\[")


@dataclass
class ServerLimits:
    max_tokens: int = 1024  # the most a request may ask to generate
    max_queue: int = 8  # requests waiting behind the running one; more get 429
    max_body: int = 1 << 20  # bytes of a request body; more get 413
    api_key: str | None = None
    grace: float = 5.0  # seconds the running generation may go on after a stop signal; then its client gets 503
    access_log: Callable[[str], None] | None = None  # one line per request; never the prompt or the answer


class ApiError(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", param: str | None = None,
                 code: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.kind, self.param, self.code = status, message, kind, param, code
        self.headers = headers


def _shutting_down() -> ApiError:
    return ApiError(503, "the server is shutting down; retry shortly (or at another server)", "server_error",
                    code="shutting_down", headers={"Retry-After": "5"})


def _error(status: int, message: str, kind: str, param: str | None = None, code: str | None = None,
           headers: dict | None = None) -> JSONResponse:
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


class TextPart(BaseModel):
    type: Literal["text"]
    text: str


class Message(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str | list[TextPart]

    def text(self) -> str:
        return self.content if isinstance(self.content, str) else "".join(p.text for p in self.content)


# OpenAI request fields this server does not implement, with the values that ask for nothing. Clients often send them
# so (logprobs: false, presence_penalty: 0); any other value of these, or any field OpenAI does not define, is a 400
# naming it: a field that changes the answer is never silently dropped. `user` and `metadata` only label a request.
_NO_OP_VALUES = {"logprobs": (False, None), "echo": (False, None), "top_logprobs": (0, None), "best_of": (1, None),
                 "presence_penalty": (0, None), "frequency_penalty": (0, None), "logit_bias": ({}, None),
                 "suffix": ("", None), "stream_options": (None,), "tools": ([], None), "tool_choice": ("none", None),
                 "parallel_tool_calls": (True, False, None), "response_format": ({"type": "text"}, None),
                 "store": (False, None), "user": ..., "metadata": ...}


class _Sampled(BaseModel):
    model_config = ConfigDict(extra="allow")  # kept, to be checked by unsupported(): never ignored
    model: str | None = None
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float = Field(1.0, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    n: int = Field(1, ge=1, le=1, description="one choice per request")
    stream: StrictBool = False  # "yes" is not true
    stop: str | list[str] | None = None
    seed: int | None = Field(None, ge=0, le=2**63 - 1)  # what torch.manual_seed takes

    def unsupported(self) -> str | None:
        """The first field of the request this server would otherwise ignore, or None."""
        for field, value in (self.model_extra or {}).items():
            allowed = _NO_OP_VALUES.get(field)
            if allowed is None or (allowed is not ... and value not in allowed):
                return field
        return None


class ChatRequest(_Sampled):
    messages: list[Message] = Field(min_length=1)


class CompletionRequest(_Sampled):
    prompt: str | list[str]


class _BodyLimit:
    """Refuses request bodies over the limit before they are read into memory (413)."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await _error(413, f"the request body is over {self.limit} bytes", "invalid_request_error")(
                scope, receive, send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise HTTPException(413, f"the request body is over {self.limit} bytes")
            return message

        return await self.app(scope, counted, send)


class _AccessLog:
    """One line per request once it is answered: method, path, status, latency and tokens; what an operator needs to
    diagnose a client, and nothing of the text, which may hold patient data. A plain ASGI wrapper, so a client that
    goes away is still seen as gone by the endpoint."""

    def __init__(self, app, say: Callable[[str], None]):
        self.app, self.say = app, say

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), None

        async def sending(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            tokens = scope.get("state", {}).get("tokens")  # set by the endpoint on request.state
            counted = f" prompt {tokens[0]} completion {tokens[1]} tokens" if tokens else ""
            self.say(f"{scope['method']} {scope['path']} {status or 'no response'} "
                     f"{(time.perf_counter() - started) * 1000:.0f} ms{counted}")


def create_app(served: Trained, limits: ServerLimits, stopping: Callable[[], bool] | None = None) -> FastAPI:
    """The app; `stopping` says when the server hosting it has been told to stop (a signal), so it can drain: new
    requests and those waiting get 503 with Retry-After, the running generation has `limits.grace` seconds."""
    worker = GenerationWorker(served, limits.max_queue)

    async def drain_when_stopping():
        while not stopping():
            await asyncio.sleep(0.1)
        worker.drain()
        deadline = time.monotonic() + limits.grace
        while worker.running is not None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        worker.stop()

    @asynccontextmanager
    async def lifespan(_app):
        worker.start()
        watcher = asyncio.create_task(drain_when_stopping()) if stopping else None
        yield
        if watcher:
            watcher.cancel()
        worker.stop()

    app = FastAPI(title="clintune", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.served = served
    app.add_middleware(_BodyLimit, limit=limits.max_body)
    if limits.access_log is not None:
        app.add_middleware(_AccessLog, say=limits.access_log)

    @app.exception_handler(ApiError)
    async def api_error(_request, exc: ApiError):
        return _error(exc.status, exc.message, exc.kind, exc.param, exc.code, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request, exc: RequestValidationError):
        first = exc.errors()[0]
        if first.get("type") == "json_invalid":
            return _error(400, "the request body is not valid JSON", "invalid_request_error")
        # The location without pydantic's union branches: "stop.str" is about "stop".
        path = [str(p) for p in first.get("loc", ())[1:] if isinstance(p, int) or not _UNION_BRANCH.match(str(p))]
        where = ".".join(path) or None
        return _error(400, f"{where or 'body'}: {first.get('msg', 'invalid')}", "invalid_request_error", where)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request, exc: StarletteHTTPException):
        return _error(exc.status_code, str(exc.detail), "invalid_request_error")

    def authorised(request: Request) -> None:
        if limits.api_key is None:
            return
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), limits.api_key.encode()):
            raise ApiError(401, "missing or wrong API key (send Authorization: Bearer <key>)", "authentication_error",
                           code="invalid_api_key")

    @app.get("/health")
    async def health():
        return {"status": "stopping" if worker.draining else "ok", "model": served.name, "queued": worker.queued(),
                "busy": worker.running is not None, "cancelled": worker.cancelled,
                "accepted": worker.accepted}

    @app.get("/v1/models", dependencies=[Depends(authorised)])
    async def models():
        return {"object": "list", "data": [{"id": served.name, "object": "model", "created": 0,
                                            "owned_by": "clintune"}]}

    @app.post("/v1/chat/completions", dependencies=[Depends(authorised)])
    async def chat_completions(body: ChatRequest, request: Request):
        tokenizer = served.tokenizer
        if not getattr(tokenizer, "chat_template", None):
            raise ApiError(400, "this model has no chat template; use /v1/completions", param="messages")
        messages = [{"role": m.role, "content": m.text()} for m in body.messages]
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        return await _respond(body, ids, True, request)

    @app.post("/v1/completions", dependencies=[Depends(authorised)])
    async def completions(body: CompletionRequest, request: Request):
        prompts = [body.prompt] if isinstance(body.prompt, str) else body.prompt
        if len(prompts) != 1:
            raise ApiError(400, "send one prompt per request", param="prompt")
        return await _respond(body, served.tokenizer(prompts[0])["input_ids"], False, request)

    async def _respond(body: _Sampled, ids: list[int], chat: bool, request: Request):
        field = body.unsupported()
        if field is not None:
            known = field in _NO_OP_VALUES
            raise ApiError(400, f"{field}: {'this value is' if known else 'this field is'} not supported by clintune "
                           f"serve, and it is not ignored; leave it out" + (" or send its default" if known else ""),
                           param=field, code="unsupported_field")
        if body.model not in (None, served.name):
            raise ApiError(404, f"model '{body.model}' is not served here; this server serves '{served.name}'",
                           param="model", code="model_not_found")
        max_tokens = body.max_completion_tokens or body.max_tokens or min(256, limits.max_tokens)
        if max_tokens > limits.max_tokens:
            raise ApiError(400, f"max_tokens {max_tokens} is over this server's limit of {limits.max_tokens}",
                           param="max_tokens")
        window = getattr(served.model.config.get_text_config(), "max_position_embeddings", None)
        if window and len(ids) + max_tokens > window:
            raise ApiError(400, f"the prompt ({len(ids)} tokens) plus max_tokens ({max_tokens}) is over the model's "
                           f"{window}-token window", param="max_tokens")
        stop = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
        job = Job(ids, Sampling(max_tokens, body.temperature, body.top_p, stop, body.seed), asyncio.get_running_loop())
        try:
            worker.submit(job)
        except QueueFull as exc:
            return _error(429, f"server busy: {exc}; retry shortly", "rate_limit_error", code="queue_full",
                          headers={"Retry-After": "1"})
        except ShuttingDown:
            raise _shutting_down() from None
        ident = f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex}"
        if body.stream:
            return StreamingResponse(_events(job, ident, chat), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache"})
        try:
            collected = await _collect(job, request)
        finally:
            worker.cancel(job)  # a no-op once it finished; frees the slot of a request that ended any other way
        if collected is None:  # the client went away; nobody reads this
            return Response(status_code=499)
        text, result = collected
        request.state.tokens = (result.prompt_tokens, result.completion_tokens)
        choice = ({"index": 0, "message": {"role": "assistant", "content": text}} if chat
                  else {"index": 0, "text": text, "logprobs": None})
        return {"id": ident, "object": "chat.completion" if chat else "text_completion", "created": int(time.time()),
                "model": served.name, "choices": [{**choice, "finish_reason": result.finish_reason}],
                "usage": _usage(result)}

    async def _collect(job: Job, request: Request) -> tuple[str, Generated] | None:
        """The whole answer; None when the client disconnects first (checked while waiting, so its request is
        cancelled within a quarter of a second)."""
        pieces = []
        while True:
            try:
                item = await asyncio.wait_for(job.pieces.get(), timeout=0.25)
            except TimeoutError:
                if await request.is_disconnected():
                    return None
                continue
            if isinstance(item, str):
                pieces.append(item)
            elif isinstance(item, ShuttingDown):
                raise _shutting_down()
            elif isinstance(item, Exception):
                raise ApiError(503, f"generation failed: {item}", "server_error")
            else:
                return "".join(pieces), item

    async def _events(job: Job, ident: str, chat: bool):
        created = int(time.time())

        def chunk(delta: dict | None, text: str | None, finish: str | None = None) -> str:
            choice = {"index": 0, "delta": delta, "finish_reason": finish} if chat else {
                "index": 0, "text": text or "", "logprobs": None, "finish_reason": finish}
            event = {"id": ident, "object": "chat.completion.chunk" if chat else "text_completion",
                     "created": created, "model": served.name, "choices": [choice]}
            return f"data: {json.dumps(event)}\n\n"

        try:
            if chat:
                yield chunk({"role": "assistant", "content": ""}, None)
            while True:
                item = await job.pieces.get()
                if isinstance(item, str):
                    yield chunk({"content": item}, item)
                elif isinstance(item, Exception):
                    yield f"data: {json.dumps({'error': {'message': str(item), 'type': 'server_error'}})}\n\n"
                    return
                else:
                    yield chunk({}, "", item.finish_reason)
                    yield "data: [DONE]\n\n"
                    return
        finally:
            worker.cancel(job)  # a client that went away frees its slot, or stops its generation at the next token

    return app


def _usage(result: Generated) -> dict:
    return {"prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens,
            "total_tokens": result.prompt_tokens + result.completion_tokens}
