"""The Data and Memory tabs' actions: each a call into clintune.api that also returns the `clintune` command doing
the same thing. Identifiers found by the scan reach the page masked, never in full."""

from __future__ import annotations

import re
import time
from pathlib import Path

from fastapi import APIRouter, Request
from pydantic import Field

from clintune import api
from clintune.studio.common import Request_, StudioError, command, digest, file_url

MAX_UPLOAD = 1 << 30  # 1 GiB: an Asclepius-sized file is 400 MB
FINDINGS_SHOWN = 50
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


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


def data_routes(runs: Path) -> APIRouter:
    router = APIRouter()
    workspace = runs / "studio-data"

    # Data --------------------------------------------------------------------------------------------------------

    @router.post("/api/data/upload")
    async def upload(request: Request, name: str) -> dict:
        body = await request.body()
        if not body:
            raise StudioError("empty_upload", f"the uploaded file is empty ({name})", fix="choose a file with rows",
                              name=name)
        if len(body) > MAX_UPLOAD:
            raise StudioError("upload_too_big", f"the file is larger than {MAX_UPLOAD >> 30} GiB ({name})",
                              fix="give its path on this machine instead of uploading it", name=name)
        workspace.mkdir(parents=True, exist_ok=True)
        safe = SAFE_NAME.sub("_", Path(name).name).lstrip(".") or "upload"
        path = workspace / f"{time.strftime('%Y%m%d-%H%M%S')}-{safe}"
        partial = path.with_name("." + path.name + ".partial")
        partial.write_bytes(body)
        partial.replace(path)  # never a half-written upload under the real name
        return {"path": str(path), "command": f"cp YOUR-FILE {command([path])}   # what the upload did"}

    @router.post("/api/data/generate")
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

    @router.post("/api/data/validate")
    def validate(request: DataSource) -> dict:
        report = api.validate(request.path, request.columns, strict=request.strict,
                              clean_export=request.clean_export)
        return {**report.as_json(), "lines": report.lines(),
                "command": command(["clintune", "data", "validate", *_source_args(request)])}

    @router.post("/api/data/scan")
    def scan(request: DataSource) -> dict:
        scanned = api.scan_phi(request.path, request.columns, strict=request.strict,
                               clean_export=request.clean_export)
        shown = [{"row": scanned.file_row(f), "column": f.column, "class": f.cls,
                  "context": api.masked_snippet(scanned.dataset[f.row][f.column], f)}
                 for f in scanned.findings[:FINDINGS_SHOWN]]
        return {"summary": scanned.summary, "findings": shown, "warnings": scanned.loaded.warnings,
                "command": command(["clintune", "data", "scan-phi", *_source_args(request)])}

    @router.post("/api/data/stats")
    def stats(request: DataSource) -> dict:
        plot = workspace / f"lengths-{digest(request.model_dump_json())}.png"
        workspace.mkdir(parents=True, exist_ok=True)
        summary, warnings = api.stats(request.path, request.columns, plot=plot, strict=request.strict,
                                      clean_export=request.clean_export)
        return {"summary": summary, "warnings": warnings, "plot": file_url(runs, plot),
                "command": command(["clintune", "data", "stats", *_source_args(request), "--plot", plot])}

    @router.post("/api/data/preview")
    def preview(request: PreviewRequest) -> dict:
        previews = api.preview(request.path, request.tokenizer, columns=request.columns, n=request.n)
        return {"examples": [{**p.as_json(), "pieces": p.pieces} for p in previews],
                "command": command(["clintune", "data", "preview", request.path, "--tokenizer", request.tokenizer,
                                    "--n", request.n] + (["--columns", request.columns] if request.columns else []))}

    # Memory ------------------------------------------------------------------------------------------------------

    @router.post("/api/memory/plan")
    def memory(request: MemoryRequest) -> dict:
        workspace.mkdir(parents=True, exist_ok=True)
        chart = workspace / f"memory-{digest(request.model_dump_json())}.png"
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
        components = [{"key": key, "bytes": size} for key, size in report.components()]
        return {"headline": report.headline(), "components": components, "fits": plan.fits,
                "capacity": plan.capacity, "target": report.target.label, "suggestions": plan.suggestions,
                "chart": file_url(runs, chart), "command": command(args)}

    return router


def _source_args(request: DataSource) -> list:
    args = [request.path]
    if request.columns:
        args += ["--columns", request.columns]
    if request.strict:
        args.append("--strict")
    if request.clean_export:
        args.append("--clean-export")
    return args
