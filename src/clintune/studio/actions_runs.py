"""The Train and Evaluate tabs' actions: a recipe and its overrides checked and shown as YAML and as the `clintune
train` command; runs started, stopped and resumed in the background (studio/jobs.py); their progress read from their
own files; `clintune eval --compare-base` and `clintune report` on a finished run."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi import APIRouter
from pydantic import Field

from clintune import api
from clintune.studio.common import Request_, StudioError, command, file_url, no_run
from clintune.studio.jobs import Jobs, run_progress


class RecipeRequest(Request_):
    recipe: str = Field("demo", min_length=1)  # a shipped recipe's name or a YAML path
    overrides: list[str] = []  # key=value, as on the command line


class SaveRequest(RecipeRequest):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class StartRequest(RecipeRequest):
    allow_phi: str | None = None


class EvalRequest(Request_):
    data: str | None = None  # a question-answer file; none = the run's held-out split
    max_new_tokens: int = Field(96, ge=1, le=2048)
    limit: int | None = Field(None, ge=1)
    judge: str | None = None  # an OpenAI-compatible endpoint
    judge_model: str | None = None
    judge_key_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")  # a variable's name, not the key


def run_routes(runs: Path, jobs: Jobs) -> APIRouter:
    router = APIRouter()
    saved = runs / "recipes"

    def run_dir(name: str) -> Path:
        path = (runs / name).resolve()
        if path.parent != runs or not (path / "config.yaml").is_file():
            raise no_run(name, runs)
        return path

    def train_args(request: RecipeRequest) -> list[str]:
        return ["train", request.recipe, *request.overrides]

    @router.get("/api/train/recipes")
    def recipes() -> dict:
        mine = sorted(str(p) for p in saved.glob("*.yaml")) if saved.is_dir() else []
        return {"shipped": api.recipes(), "saved": mine}

    @router.post("/api/train/config")
    def config(request: RecipeRequest) -> dict:
        loaded = api.load_config(request.recipe, request.overrides)
        return {"yaml": api.config_yaml(loaded), "values": _flat(loaded.model_dump(mode="json")),
                "command": command(["clintune", *train_args(request)])}

    @router.post("/api/train/save")
    def save(request: SaveRequest) -> dict:
        loaded = api.load_config(request.recipe, request.overrides)
        saved.mkdir(parents=True, exist_ok=True)
        path = saved / f"{request.name}.yaml"
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(api.config_yaml(loaded), encoding="utf-8")
        partial.replace(path)
        return {"path": str(path), "command": f"clintune config show {command([request.recipe, *request.overrides])}"
                                              f" > {path}"}

    @router.post("/api/train/start")
    def start(request: StartRequest) -> dict:
        loaded = api.load_config(request.recipe, request.overrides)  # a bad field is refused before anything starts
        run = runs / f"{loaded.name}-{time.strftime('%Y%m%d-%H%M%S')}"
        args = [*train_args(request), "--out", str(run)]
        if request.allow_phi:
            args += ["--allow-phi", request.allow_phi]
        record = jobs.start("train", run, args, allow_phi=request.allow_phi)
        return {"run": run.name, "command": record["command"]}

    @router.get("/api/runs")
    def list_runs() -> dict:
        found = []
        folders = {p for p in runs.iterdir() if p.is_dir() and (p / "config.yaml").is_file()} | jobs.runs()
        for path in sorted(folders, key=lambda p: (p / "config.yaml").stat().st_mtime
                           if (p / "config.yaml").is_file() else time.time(), reverse=True):
            progress = run_progress(path)
            progress.pop("losses")
            found.append({"name": path.name, **progress, "training": jobs.alive(path, "train"),
                          "evaluating": jobs.alive(path, "eval")})
        return {"runs": found}

    @router.get("/api/runs/{name}")
    def one_run(name: str) -> dict:
        path = (runs / name).resolve()
        if path.parent != runs or not (path.is_dir() or jobs.record(path, "train")):  # just started: no folder yet
            raise no_run(name, runs)
        return {"name": name, **run_progress(path), "training": jobs.alive(path, "train"),
                "evaluating": jobs.alive(path, "eval"), "log": jobs.log_tail(path, "train"),
                "eval_log": jobs.log_tail(path, "eval")}

    @router.post("/api/runs/{name}/stop")
    def stop(name: str) -> dict:
        path = runs / name
        running = [kind for kind in ("train", "eval") if jobs.alive(path, kind)]
        if not running:
            raise StudioError("nothing_running", f"{name} has nothing running", fix="refresh the list of runs",
                              name=name)
        pid = jobs.stop(path, running[0])
        return {"stopped": running[0], "command": f"kill -INT -{pid}   # Ctrl-C for the {running[0]} job's processes"}

    @router.post("/api/runs/{name}/resume")
    def resume(name: str) -> dict:
        path = run_dir(name)
        earlier = jobs.record(path, "train") or {}
        args = ["train", str(path / "config.yaml"), "--out", str(path), "--resume"]
        if earlier.get("allow_phi"):
            args += ["--allow-phi", earlier["allow_phi"]]
        record = jobs.start("train", path, args, allow_phi=earlier.get("allow_phi"))
        return {"run": name, "command": record["command"]}

    @router.post("/api/runs/{name}/eval")
    def evaluate(name: str, request: EvalRequest) -> dict:
        path = run_dir(name)
        if jobs.alive(path, "train"):
            raise StudioError("still_training", f"{name} is still training",
                              fix="wait until it has finished, or stop it", name=name)
        args = ["eval", "--run", str(path), "--compare-base", "--max-new-tokens", str(request.max_new_tokens)]
        if request.data:
            args += ["--data", request.data]
        if request.limit:
            args += ["--limit", str(request.limit)]
        if request.judge or request.judge_model:
            if not (request.judge and request.judge_model):
                raise StudioError("judge_incomplete", "the judge needs both an endpoint and a model",
                                  fix="fill in both, or neither")
            args += ["--judge", request.judge, "--judge-model", request.judge_model]
            if request.judge_key_env:
                args += ["--judge-key-env", request.judge_key_env]
        record = jobs.start("eval", path, args)
        return {"run": name, "command": record["command"]}

    @router.get("/api/runs/{name}/metrics")
    def metrics(name: str) -> dict:
        path = run_dir(name)
        found = path / "eval" / "metrics.json"
        if not found.is_file():
            raise StudioError("not_evaluated", f"{name} has not been evaluated yet", fix="run the evaluation first",
                              name=name)
        import json

        return {**json.loads(found.read_text(encoding="utf-8")),
                "command": command(["clintune", "eval", "--run", path, "--compare-base"])}

    @router.post("/api/runs/{name}/report")
    def report(name: str) -> dict:
        path = run_dir(name)
        api.report(path)
        return {"report": file_url(runs, path / "report.html"), "command": command(["clintune", "report", path])}

    return router


def _flat(values: dict, prefix: str = "") -> dict:
    """{"train": {"lr": 1e-4}} -> {"train.lr": 1e-4}: the form's fields are the config's dotted keys."""
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
