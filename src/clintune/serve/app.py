"""The OpenAI-compatible HTTP API (FastAPI): /v1/models, /v1/chat/completions (with server-sent events),
/v1/completions (text or token-id prompts, echo, logprobs, max_tokens 0), /health, and the tokenizer endpoints
harnesses use (/tokenizer_info, /tokenize, /detokenize, as vLLM serves them). Every error has OpenAI's shape:
{"error": {"message", "type", "param", "code"}}."""

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

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool
from starlette.exceptions import HTTPException as StarletteHTTPException

from clintune.models.load import Trained
from clintune.serve.engine import Generated, Sampling
from clintune.serve.middleware import AccessLog, BodyLimit, error_response
from clintune.serve.scoring import MAX_TOP, chat_logprobs, completion_logprobs
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
_NO_OP_VALUES = {"best_of": (1, None),
                 "presence_penalty": (0, None), "frequency_penalty": (0, None), "logit_bias": ({}, None),
                 "suffix": ("", None), "stream_options": (None,), "tools": ([], None), "tool_choice": ("none", None),
                 "parallel_tool_calls": (True, False, None), "response_format": ({"type": "text"}, None),
                 "store": (False, None), "user": ..., "metadata": ...}


class _Sampled(BaseModel):
    model_config = ConfigDict(extra="allow")  # kept, to be checked by unsupported(): never ignored
    model: str | None = None
    max_tokens: int | None = Field(None, ge=0)  # 0 with echo: score the prompt, generate nothing
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
    logprobs: StrictBool = False
    top_logprobs: int | None = Field(None, ge=0, le=MAX_TOP)


class CompletionRequest(_Sampled):
    prompt: str | list[str] | list[int] | list[list[int]]  # text, or token ids, as OpenAI takes them
    logprobs: int | None = Field(None, ge=0, le=MAX_TOP)  # alternatives per token; 0 scores the tokens alone
    echo: StrictBool = False  # the prompt comes back before the answer, with its tokens' log-probabilities


class TokenizeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # the tokenizer endpoints take nothing they would ignore
    model: str | None = None
    prompt: str
    add_special_tokens: StrictBool = True


class DetokenizeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str | None = None
    tokens: list[int]


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
    app.add_middleware(BodyLimit, limit=limits.max_body)
    if limits.access_log is not None:
        app.add_middleware(AccessLog, say=limits.access_log)

    @app.exception_handler(ApiError)
    async def api_error(_request, exc: ApiError):
        return error_response(exc.status, exc.message, exc.kind, exc.param, exc.code, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request, exc: RequestValidationError):
        first = exc.errors()[0]
        if first.get("type") == "json_invalid":
            return error_response(400, "the request body is not valid JSON", "invalid_request_error")
        # The location without pydantic's union branches: "stop.str" is about "stop".
        path = [str(p) for p in first.get("loc", ())[1:] if isinstance(p, int) or not _UNION_BRANCH.match(str(p))]
        where = ".".join(path) or None
        return error_response(400, f"{where or 'body'}: {first.get('msg', 'invalid')}", "invalid_request_error", where)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request, exc: StarletteHTTPException):
        return error_response(exc.status_code, str(exc.detail), "invalid_request_error")

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

    @app.get("/tokenizer_info", dependencies=[Depends(authorised)])
    async def tokenizer_info():
        """The served tokenizer's special tokens and chat template, as vLLM and lm-eval's remote tokenizer read them."""
        tokenizer = served.tokenizer
        return {"tokenizer_class": type(tokenizer).__name__, "eos_token": tokenizer.eos_token,
                "bos_token": tokenizer.bos_token, "pad_token": tokenizer.pad_token, "unk_token": tokenizer.unk_token,
                "chat_template": getattr(tokenizer, "chat_template", None), "model_max_length": _window()}

    @app.post("/tokenize", dependencies=[Depends(authorised)])
    async def tokenize(body: TokenizeRequest):
        _check_model(body.model)
        tokens = served.tokenizer(body.prompt, add_special_tokens=body.add_special_tokens)["input_ids"]
        return {"tokens": tokens, "count": len(tokens), "max_model_len": _window()}

    @app.post("/detokenize", dependencies=[Depends(authorised)])
    async def detokenize(body: DetokenizeRequest):
        _check_model(body.model)
        return {"prompt": served.tokenizer.decode(_known_ids(body.tokens, "tokens"))}

    @app.post("/v1/chat/completions", dependencies=[Depends(authorised)])
    async def chat_completions(body: ChatRequest, request: Request):
        tokenizer = served.tokenizer
        if not getattr(tokenizer, "chat_template", None):
            raise ApiError(400, "this model has no chat template; use /v1/completions", param="messages")
        if body.max_tokens == 0:
            raise ApiError(400, "max_tokens: a chat answer needs at least 1 token", param="max_tokens")
        if body.top_logprobs and not body.logprobs:
            raise ApiError(400, "top_logprobs: needs logprobs: true", param="top_logprobs")
        messages = [{"role": m.role, "content": m.text()} for m in body.messages]
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        return await _respond(body, ids, True, request, (body.top_logprobs or 0) if body.logprobs else None)

    @app.post("/v1/completions", dependencies=[Depends(authorised)])
    async def completions(body: CompletionRequest, request: Request):
        prompt = body.prompt
        prompts = [prompt] if isinstance(prompt, str) or (prompt and isinstance(prompt[0], int)) else prompt
        if len(prompts) != 1:
            raise ApiError(400, "prompt: send one prompt per request", param="prompt")
        if isinstance(prompts[0], str):
            ids = served.tokenizer(prompts[0])["input_ids"]
        else:
            ids = _known_ids(prompts[0], "prompt")
        if not ids:
            raise ApiError(400, "prompt: the prompt is empty", param="prompt")
        return await _respond(body, ids, False, request, body.logprobs, body.echo)

    def _check_model(model: str | None) -> None:
        if model not in (None, served.name):
            raise ApiError(404, f"model '{model}' is not served here; this server serves '{served.name}'",
                           param="model", code="model_not_found")

    def _known_ids(ids: list[int], param: str) -> list[int]:
        size = len(served.tokenizer)
        if any(not 0 <= token < size for token in ids):
            raise ApiError(400, f"{param}: token ids must be between 0 and {size - 1}", param=param)
        return list(ids)

    def _window() -> int | None:
        return getattr(served.model.config.get_text_config(), "max_position_embeddings", None)

    async def _respond(body: _Sampled, ids: list[int], chat: bool, request: Request, logprobs: int | None = None,
                       echo: bool = False):
        field = body.unsupported()
        if field is not None:
            known = field in _NO_OP_VALUES
            raise ApiError(400, f"{field}: {'this value is' if known else 'this field is'} not supported by clintune "
                           f"serve, and it is not ignored; leave it out" + (" or send its default" if known else ""),
                           param=field, code="unsupported_field")
        _check_model(body.model)
        if body.stream and (logprobs is not None or echo):
            raise ApiError(400, f"{'logprobs' if logprobs is not None else 'echo'}: not supported with stream: true "
                           "(send stream: false)", param="logprobs" if logprobs is not None else "echo",
                           code="unsupported_field")
        max_tokens = next((value for value in (body.max_completion_tokens, body.max_tokens) if value is not None),
                          min(256, limits.max_tokens))
        if max_tokens > limits.max_tokens:
            raise ApiError(400, f"max_tokens {max_tokens} is over this server's limit of {limits.max_tokens}",
                           param="max_tokens")
        window = _window()
        if window and len(ids) + max_tokens > window:
            raise ApiError(400, f"the prompt ({len(ids)} tokens) plus max_tokens ({max_tokens}) is over the model's "
                           f"{window}-token window", param="max_tokens")
        stop = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
        sampling = Sampling(max_tokens, body.temperature, body.top_p, stop, body.seed, logprobs, echo)
        job = Job(ids, sampling, asyncio.get_running_loop())
        try:
            worker.submit(job)
        except QueueFull as exc:
            return error_response(429, f"server busy: {exc}; retry shortly", "rate_limit_error", code="queue_full",
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
        if chat:
            choice = {"index": 0, "message": {"role": "assistant", "content": text},
                      "logprobs": None if result.scores is None else chat_logprobs(served.tokenizer, result.scores)}
        else:
            prompt_text = served.tokenizer.decode(ids) if echo or result.scores is not None else ""
            choice = {"index": 0, "text": prompt_text + text if echo else text,
                      "logprobs": None if result.scores is None else completion_logprobs(
                          served.tokenizer, result.scores, 0 if echo else len(prompt_text))}
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
