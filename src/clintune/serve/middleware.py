"""The server's two ASGI wrappers: a request body limit enforced before the body is read, and the access log."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import HTTPException
from fastapi.responses import JSONResponse


def error_response(status: int, message: str, kind: str, param: str | None = None, code: str | None = None,
                   headers: dict | None = None) -> JSONResponse:
    """OpenAI's error shape: {"error": {"message", "type", "param", "code"}}."""
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


class BodyLimit:
    """Refuses request bodies over the limit before they are read into memory (413)."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            too_big = error_response(413, f"the request body is over {self.limit} bytes", "invalid_request_error")
            return await too_big(scope, receive, send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise HTTPException(413, f"the request body is over {self.limit} bytes")
            return message

        return await self.app(scope, counted, send)


class AccessLog:
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
