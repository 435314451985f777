"""Using a trained model from Python: load it, ask about a note, serve it over the OpenAI API.

    from clintune import api
    session = api.chat(run=run_dir, note=Path("note.txt"))
    session.answer("Which antibiotic was given?", sys.stdout)   # streams, returns the text; session.tuned=False: base
    api.serve(run=run_dir, port=8000)                             # blocks; any OpenAI client can call it
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from pathlib import Path

from clintune.errors import ClintuneError

Say = Callable[[str], None]


def load_model(run: Path | None = None, model: str | None = None, adapter: str | None = None,
         keep_adapter: bool = False):
    """What a run trained (with its prompt template), or a model with an optional adapter: a `Trained` with .model,
    .tokenizer, .template and .chat. `keep_adapter` keeps a LoRA adapter separate so it can be switched off."""
    from clintune.serve.engine import open_served

    return open_served(Path(run) if run else None, model, adapter, keep_adapter)


def chat(run: Path | None = None, model: str | None = None, adapter: str | None = None, note: Path | None = None,
         max_tokens: int = 256):
    """A chat about one note (`clintune chat`): `.answer(question, stream)` answers with the training template;
    `.tuned = False` answers with the adapter off; `.load_note(path)` changes the note; `.handle(line, stream)` takes
    the terminal's /commands."""
    from clintune.serve.chat import ChatSession

    session = ChatSession.open(Path(run) if run else None, model, adapter, max_tokens)
    if note is not None:
        session.load_note(Path(note))
    return session


def server_app(run: Path | None = None, model: str | None = None, adapter: str | None = None,
               api_key: str | None = None, max_tokens: int = 1024, max_queue: int = 8, max_body: int = 1 << 20,
               grace: float = 5.0, stopping: Callable[[], bool] | None = None,
               access_log: Callable[[str], None] | None = None):
    """The OpenAI-compatible FastAPI app (/v1/chat/completions with streaming, /v1/completions, /v1/models), to run
    under any ASGI server. Its `.state.served` is the loaded model. `stopping`, when given, says the hosting server
    was told to stop: the app then drains (503 with Retry-After for what waits; `grace` seconds for what runs).
    `access_log` gets one line per request (method, path, status, latency, tokens; never the text)."""
    from clintune.serve.app import ServerLimits, create_app
    from clintune.serve.engine import open_served

    served = open_served(Path(run) if run else None, model, adapter)
    return create_app(served, ServerLimits(max_tokens, max_queue, max_body, api_key, grace, access_log), stopping)


def serve(run: Path | None = None, model: str | None = None, adapter: str | None = None, host: str = "127.0.0.1",
          port: int = 8000, api_key_env: str | None = None, max_tokens: int = 1024, max_queue: int = 8,
          max_body: int = 1 << 20, grace: float = 5.0, say: Say = print) -> None:
    """Serve a model over the OpenAI API until SIGINT or SIGTERM (`clintune serve`). Clients must send the key held
    in the environment variable `api_key_env`; the key itself is never printed. On a stop signal no new request is
    taken, waiting ones get 503 with Retry-After, and the running one has `grace` seconds to finish."""
    import signal

    import uvicorn

    api_key = None
    if api_key_env:
        api_key = os.environ.get(api_key_env)
        if not api_key:
            raise ClintuneError(f"--api-key-env {api_key_env}: that environment variable is empty or unset",
                                fix=f"export {api_key_env}=<a secret> before starting the server")
    listening = _bind(host, port)  # a port in use or a bad host is the user's one line, before the model loads
    if not _loopback(host) and api_key is None:
        say(f"warning: serving on {host} without an API key: anyone who can reach it can use the model")
    server = None
    app = server_app(run, model, adapter, api_key, max_tokens, max_queue, max_body, grace,
                     stopping=lambda: server is not None and server.should_exit, access_log=say)
    # uvicorn waits this long for open requests after a signal: longer than the grace period, so every request is
    # answered by the app (a result, or 503) before uvicorn would cancel it.
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=grace + 5))
    bound_port = listening.getsockname()[1]
    say(f"serving {app.state.served.name} at http://{host}:{bound_port}/v1 "
        f"({'API key required' if api_key else 'no API key'}); Ctrl-C stops")
    # uvicorn shuts down gracefully on SIGINT/SIGTERM and then re-raises the signal through the handlers it found;
    # these ones let a server that stopped as asked exit 0 instead of dying "killed by SIGTERM".
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
    server.run(sockets=[listening])
    say("stopped")


def _bind(host: str, port: int):
    """The listening socket, bound here so that a port in use or a host that does not resolve is reported in one
    line with the fix (uvicorn would log it and exit 3)."""
    import errno
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError):
        raise ClintuneError(f"--host '{host}' does not resolve to an address",
                            fix="use an IP address such as 127.0.0.1 or 0.0.0.0, or a name this machine knows") \
            from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ClintuneError(f"port {port} on {host} is already in use", fix="choose another with --port, or "
                                "stop the program using it") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ClintuneError(f"--host {host} is not an address of this machine",
                                fix="use 127.0.0.1, 0.0.0.0 or one of this machine's addresses") from None
        if exc.errno == errno.EACCES:
            raise ClintuneError(f"port {port} needs more privileges than this user has",
                                fix="use a port above 1023") from None
        raise
    return sock


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
