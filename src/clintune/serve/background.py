"""`clintune serve` (or `clintune studio`) in a child process on a free loopback port, for scripts, benchmarks and tests
that need a real server: start it, wait until it answers, get its URL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_background_server(*serve_args: str, env_extra: dict | None = None, timeout: float = 120,
                            stderr=subprocess.PIPE, command: str = "serve",
                            ready: str = "/health") -> tuple[subprocess.Popen, str]:
    """`serve_args` as for `clintune serve` (or `command`) without --port; returns the process and its base URL once
    GET `ready` answers 200."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "clintune", command, *serve_args, "--port", str(port)],
                               stderr=stderr, text=True, env={**os.environ, **(env_extra or {})})
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"clintune {command} exited: {process.stderr.read() if process.stderr else ''}")
        try:
            if httpx.get(f"{url}{ready}", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"clintune {command} did not answer {ready} within {timeout:.0f} s")
