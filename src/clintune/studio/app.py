"""The studio's HTTP side: the page, its locales, and one JSON endpoint per action, each a call into clintune.api that
also returns the `clintune` command doing the same thing.

    app = studio_app(Path("runs"), token=None)   # run_studio() serves it with uvicorn

Bad input comes back as HTTP 400 {"error": "<the CLI's one line>"}; anything unexpected as 500 with a line that
names the studio log (RUNS/studio.log), where the traceback goes: the page never shows one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import shlex
import time
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from clintune import api
from clintune.errors import ClintuneError

HERE = Path(__file__).parent
STATIC = HERE / "static"
LOCALES = HERE / "locales"
COOKIE = "clintune_studio"
MAX_UPLOAD = 1 << 30  # 1 GiB: an Asclepius-sized file is 400 MB
FINDINGS_SHOWN = 50
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class Request_(BaseModel):
    """Every request body: unknown fields are an error, never silently ignored."""

    model_config = ConfigDict(extra="forbid")


class DataSource(Request_):
    path: str = Field(min_length=1)
    columns: str | None = None
    strict: bool = False
    clean_export: bool = False


class GenerateRequest(Request_):
    n: int = Field(200, ge=8, le=200_000)
    seed: int = Field(0, ge=0)
    kinds: list[str] | None = None
    plant_phi: float = Field(0.0, ge=0.0, le=1.0)


class PreviewRequest(DataSource):
    tokenizer: str = Field("smollm2-135m-instruct", min_length=1)
    n: int = Field(2, ge=1, le=10)


class MemoryRequest(Request_):
    model: str = Field(min_length=1)
    method: str = "lora"
    seq_len: int = Field(512, ge=8)
    batch_size: int = Field(2, ge=1)
    gpu: str | None = None
    gpu_memory: str | None = None
    checkpointing: bool = False


def studio_app(runs: Path, token: str | None = None) -> FastAPI:
    runs = Path(runs).resolve()
    workspace = runs / "studio-data"
    log = _logger(runs)
    app = FastAPI(title="clintune studio", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(ClintuneError)
    async def bad_input(_: Request, error: ClintuneError) -> JSONResponse:
        return JSONResponse({"error": error.one_line()}, status_code=400)

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
            return JSONResponse({"error": "not signed in; open the page and give the studio's token"},
                                status_code=401)
        return RedirectResponse("/login", status_code=303)

    @app.get("/login", response_class=HTMLResponse)
    def login_page() -> str:
        return (STATIC / "login.html").read_text(encoding="utf-8")

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = (await request.body()).decode("utf-8", "replace")
        given = dict(part.split("=", 1) for part in form.split("&") if "=" in part).get("token", "")
        from urllib.parse import unquote_plus

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
            raise ClintuneError(f"no such file: {name}")
        return FileResponse(path)

    @app.get("/api/locales/{lang}")
    def locale(lang: str) -> dict:
        path = LOCALES / f"{lang}.json"
        if not re.fullmatch(r"[a-z]{2}", lang) or not path.is_file():
            raise ClintuneError(f"no locale '{lang}'", fix="use en or ko")
        return json.loads(path.read_text(encoding="utf-8"))

    @app.get("/api/options")
    def options() -> dict:
        from clintune.data.generate import NOTE_KINDS
        from clintune.memory.units import GPUS

        return {"models": api.models(), "gpus": {name: mib for name, (mib, _) in GPUS.items()},
                "methods": ["full", "lora", "qlora", "dora"], "note_kinds": list(NOTE_KINDS),
                "recipes": api.recipes(), "runs": str(runs)}

    @app.get("/api/files/{relative:path}")
    def files(relative: str) -> FileResponse:
        path = (runs / relative).resolve()
        if runs not in path.parents or not path.is_file() or path.suffix not in (".png", ".html", ".md", ".json"):
            raise ClintuneError(f"no such file in the studio's runs folder: {relative}")
        return FileResponse(path)

    # Data --------------------------------------------------------------------------------------------------------

    @app.post("/api/data/upload")
    async def upload(request: Request, name: str) -> dict:
        body = await request.body()
        if not body:
            raise ClintuneError("the uploaded file is empty", where=name, fix="choose a file with rows")
        if len(body) > MAX_UPLOAD:
            raise ClintuneError(f"the file is larger than {MAX_UPLOAD >> 30} GiB", where=name,
                                fix="give its path on this machine instead of uploading it")
        workspace.mkdir(parents=True, exist_ok=True)
        safe = SAFE_NAME.sub("_", Path(name).name).lstrip(".") or "upload"
        path = workspace / f"{time.strftime('%Y%m%d-%H%M%S')}-{safe}"
        partial = path.with_name("." + path.name + ".partial")
        partial.write_bytes(body)
        partial.replace(path)  # never a half-written upload under the real name
        return {"path": str(path)}

    @app.post("/api/data/generate")
    def generate(request: GenerateRequest) -> dict:
        workspace.mkdir(parents=True, exist_ok=True)
        kinds = tuple(request.kinds) if request.kinds else None
        path = workspace / f"generated-{request.n}-seed{request.seed}.jsonl"
        api.generate(request.n, path, request.seed, plant_phi=request.plant_phi, kinds=kinds)
        args = ["clintune", "data", "generate", "--n", request.n, "--seed", request.seed, "--out", path]
        for kind in kinds or ():
            args += ["--kind", kind]
        if request.plant_phi:
            args += ["--plant-phi", request.plant_phi]
        return {"path": str(path), "command": command(args)}

    @app.post("/api/data/validate")
    def validate(request: DataSource) -> dict:
        report = api.validate(request.path, request.columns, strict=request.strict,
                              clean_export=request.clean_export)
        return {**report.as_json(), "lines": report.lines(),
                "command": command(["clintune", "data", "validate", *_source_args(request)])}

    @app.post("/api/data/scan")
    def scan(request: DataSource) -> dict:
        scanned = api.scan_phi(request.path, request.columns, strict=request.strict,
                               clean_export=request.clean_export)
        shown = [{"row": scanned.file_row(f), "column": f.column, "class": f.cls,
                  "context": api.masked_snippet(scanned.dataset[f.row][f.column], f)}
                 for f in scanned.findings[:FINDINGS_SHOWN]]
        return {"summary": scanned.summary, "findings": shown, "warnings": scanned.loaded.warnings,
                "command": command(["clintune", "data", "scan-phi", *_source_args(request)])}

    @app.post("/api/data/stats")
    def stats(request: DataSource) -> dict:
        plot = workspace / f"lengths-{_digest(request.model_dump_json())}.png"
        workspace.mkdir(parents=True, exist_ok=True)
        summary, warnings = api.stats(request.path, request.columns, plot=plot, strict=request.strict,
                                      clean_export=request.clean_export)
        return {"summary": summary, "warnings": warnings, "plot": _file_url(runs, plot),
                "command": command(["clintune", "data", "stats", *_source_args(request), "--plot", plot])}

    @app.post("/api/data/preview")
    def preview(request: PreviewRequest) -> dict:
        previews = api.preview(request.path, request.tokenizer, columns=request.columns, n=request.n)
        return {"examples": [{**p.as_json(), "pieces": p.pieces} for p in previews],
                "command": command(["clintune", "data", "preview", request.path, "--tokenizer", request.tokenizer,
                                    "--n", request.n] + (["--columns", request.columns] if request.columns else []))}

    # Memory ------------------------------------------------------------------------------------------------------

    @app.post("/api/memory/plan")
    def memory(request: MemoryRequest) -> dict:
        workspace.mkdir(parents=True, exist_ok=True)
        chart = workspace / f"memory-{_digest(request.model_dump_json())}.png"
        report = api.plan_memory(request.model, request.method, seq_len=request.seq_len,
                                 batch_size=request.batch_size, checkpointing=request.checkpointing,
                                 gpu=request.gpu or None, gpu_memory=request.gpu_memory or None, plot=chart)
        plan = report.plan
        args = ["clintune", "memory", "--model", request.model, "--method", request.method, "--seq-len",
                request.seq_len, "--batch-size", request.batch_size, "--plot", chart]
        if request.checkpointing:
            args.append("--gradient-checkpointing")
        if request.gpu:
            args += ["--gpu", request.gpu]
        elif request.gpu_memory:
            args += ["--gpu-memory", request.gpu_memory]
        from clintune.memory.units import COMPONENTS

        components = [{"key": key, "bytes": plan.bytes[key]} for key in (*COMPONENTS, "total")]
        return {"headline": report.headline(), "components": components, "fits": plan.fits,
                "capacity": plan.capacity, "target": report.target.label, "suggestions": plan.suggestions,
                "chart": _file_url(runs, chart), "command": command(args)}

    return app


def command(args: list) -> str:
    """The shell line a user can paste: every argument quoted as the shell needs."""
    return shlex.join(str(a) for a in args)


def _source_args(request: DataSource) -> list:
    args = [request.path]
    if request.columns:
        args += ["--columns", request.columns]
    if request.strict:
        args.append("--strict")
    if request.clean_export:
        args.append("--clean-export")
    return args


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _file_url(runs: Path, path: Path) -> str:
    return "/api/files/" + str(path.resolve().relative_to(runs))


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
