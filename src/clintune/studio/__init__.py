"""clintune studio: the whole workflow in a local web page, in English and Korean.

    clintune studio [--host 127.0.0.1] [--port 7860] [--runs runs/]

A FastAPI app (studio/app.py) over clintune's Python API, the same functions the CLI calls, and a page of plain HTML
and JavaScript (studio/static/, no build step, nothing fetched from the network). Each action in the page shows the
`clintune` command that does the same, so a user can move from the page to a script. Labels and messages live in
studio/locales/{en,ko}.json, plain data a translator can edit.

It binds 127.0.0.1. Another host needs a token in the environment variable CLINTUNE_STUDIO_TOKEN (the page asks for
it once, then keeps it in a cookie); without one the studio refuses to start.
"""

from __future__ import annotations

import os
from pathlib import Path

from clintune.errors import ClintuneError

TOKEN_VARIABLE = "CLINTUNE_STUDIO_TOKEN"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def studio_token(host: str, environ=os.environ) -> str | None:
    """The token the studio asks for: none on loopback (unless set), required on any other host."""
    token = environ.get(TOKEN_VARIABLE, "").strip() or None
    if host not in LOOPBACK and token is None:
        raise ClintuneError(f"--host {host} makes the studio reachable from other machines, and no token is set",
                            fix=f"set {TOKEN_VARIABLE} to a long random secret, or keep --host 127.0.0.1")
    return token


def run_studio(host: str = "127.0.0.1", port: int = 7860, runs: Path = Path("runs"), say=print) -> None:
    """Serve the studio until interrupted; `runs` holds its runs, uploads and generated data."""
    import uvicorn

    from clintune.studio.app import studio_app

    token = studio_token(host)
    runs = Path(runs)
    runs.mkdir(parents=True, exist_ok=True)
    app = studio_app(runs, token)
    say(f"clintune studio on http://{host}:{port}/ (runs in {runs}; Ctrl+C to stop)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
