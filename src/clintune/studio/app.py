"""The studio's HTTP side: the page, its locales, sign-in, and one JSON endpoint per action, each a call into
clintune.api that also returns the `clintune` command doing the same thing.

    app = studio_app(Path("runs"), token=None)   # run_studio() serves it with uvicorn

The actions are in actions_data.py (Data, Memory), actions_runs.py (Train, Evaluate) and actions_chat.py (Chat).
Bad input comes back as HTTP 400 {"error": "<the CLI's one line>"}; anything unexpected as 500 with a line that
names the studio log (RUNS/studio.log), where the traceback goes: the page never shows one.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from pathlib import Path
from urllib.parse import unquote_plus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from clintune import api
from clintune.errors import ClintuneError
from clintune.studio.actions_chat import chat_routes
from clintune.studio.actions_data import data_routes
from clintune.studio.actions_runs import run_routes
from clintune.studio.common import StudioError
from clintune.studio.jobs import Jobs

HERE = Path(__file__).parent
STATIC = HERE / "static"
LOCALES = HERE / "locales"
COOKIE = "clintune_studio"


def studio_app(runs: Path, token: str | None = None) -> FastAPI:
    runs = Path(runs).resolve()
    log = _logger(runs)
    app = FastAPI(title="clintune studio", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(ClintuneError)
    async def bad_input(_: Request, error: ClintuneError) -> JSONResponse:
        body = {"error": error.one_line()}
        if isinstance(error, StudioError):  # the page can say this one in the user's language
            body.update(key=error.key, values=error.values)
        return JSONResponse(body, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ())[1:]) or "body"
        return JSONResponse({"error": f"{field}: {first.get('msg', 'invalid')}"}, status_code=400)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return JSONResponse({"error": f"internal error ({type(error).__name__}); the details are in "
                                      f"{runs / 'studio.log'}"}, status_code=500)

    @app.middleware("http")
    async def require_token(request: Request, call_next):
        if token is None or request.url.path in ("/login", "/static/studio.css"):
            return await call_next(request)
        given = request.cookies.get(COOKIE) or request.headers.get("authorization", "").removeprefix("Bearer ")
        if given and hmac.compare_digest(given, token):
            return await call_next(request)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "not signed in; open the page and give the studio's token",
                                 "key": "not_signed_in", "values": {}}, status_code=401)
        return RedirectResponse("/login", status_code=303)

    @app.get("/login", response_class=HTMLResponse)
    def login_page() -> str:
        return (STATIC / "login.html").read_text(encoding="utf-8")

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = (await request.body()).decode("utf-8", "replace")
        given = dict(part.split("=", 1) for part in form.split("&") if "=" in part).get("token", "")
        if token is not None and hmac.compare_digest(unquote_plus(given), token):
            response = RedirectResponse("/", status_code=303)
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
            return response
        return RedirectResponse("/login?wrong=1", status_code=303)

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return (STATIC / "index.html").read_text(encoding="utf-8")

    @app.get("/static/{name}")
    def static(name: str) -> FileResponse:
        path = STATIC / name
        if "/" in name or not path.is_file():
            raise StudioError("no_file", f"no such file: {name}", name=name)
        return FileResponse(path)

    @app.get("/api/locales/{lang}")
    def locale(lang: str) -> dict:
        path = LOCALES / f"{lang}.json"
        if not re.fullmatch(r"[a-z]{2}", lang) or not path.is_file():
            raise StudioError("no_locale", f"no locale '{lang}'", fix="use en or ko", name=lang)
        return json.loads(path.read_text(encoding="utf-8"))

    @app.get("/api/options")
    def options() -> dict:
        return {"models": api.models(), "gpus": api.gpus(),
                "methods": ["full", "lora", "qlora", "dora"], "note_kinds": list(api.note_kinds()),
                "recipes": api.recipes(), "runs": str(runs)}

    @app.get("/api/files/{relative:path}")
    def files(relative: str) -> FileResponse:
        path = (runs / relative).resolve()
        if runs not in path.parents or not path.is_file() or path.suffix not in (".png", ".html", ".md", ".json"):
            raise StudioError("no_file", f"no such file in the studio's runs folder: {relative}", name=relative)
        return FileResponse(path)

    app.include_router(data_routes(runs))
    app.include_router(run_routes(runs, Jobs(runs)))
    app.include_router(chat_routes(runs))
    return app


def _logger(runs: Path) -> logging.Logger:
    """The studio's own log file: tracebacks of unexpected errors go here, never into the page."""
    log = logging.getLogger(f"clintune.studio.{runs}")
    if not log.handlers:
        runs.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(runs / "studio.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return log
