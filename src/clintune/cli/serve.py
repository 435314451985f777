"""`clintune serve`, `chat` and `synth`: thin commands over clintune.api (parse, call, print)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from clintune import api
from clintune.cli.console import err
from clintune.cli.console import error as say_error
from clintune.errors import ClintuneError

RunOpt = Annotated[Path | None, typer.Option("--run", help="A training run directory: serves what it trained.")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Or a model short name, folder or hub id.")]
AdapterOpt = Annotated[str | None, typer.Option("--adapter", help="With --model: a LoRA adapter folder.")]


def serve(
    run: RunOpt = None,
    model: ModelOpt = None,
    adapter: AdapterOpt = None,
    host: Annotated[str, typer.Option("--host", help="Address to bind; loopback unless you mean otherwise.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535)] = 8000,
    api_key_env: Annotated[str | None, typer.Option("--api-key-env", help="Environment variable holding the API "
                                                    "key clients must send (the key itself is never printed).")]
    = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1, help="The most tokens one request may "
                                            "generate.")] = 1024,
    max_queue: Annotated[int, typer.Option("--max-queue", min=1, help="Requests that may wait; more get 429.")]
    = 8,
    max_body: Annotated[int, typer.Option("--max-body", min=1024, help="Largest request body in bytes.")]
    = 1 << 20,
    grace: Annotated[float, typer.Option("--grace", min=0.0, max=600.0, help="Seconds a running generation may "
                                         "finish after Ctrl-C or SIGTERM; waiting requests get 503 at once.")]
    = 5.0,
):
    """Serve a model over the OpenAI API: /v1/chat/completions (streaming too), /v1/completions, /v1/models."""
    api.serve(run, model, adapter, host, port, api_key_env, max_tokens, max_queue, max_body, grace, say=err.print)


def chat(
    run: RunOpt = None,
    model: ModelOpt = None,
    adapter: AdapterOpt = None,
    note: Annotated[Path | None, typer.Option("--note", help="A text file with the clinical note to ask about.")]
    = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1)] = 256,
):
    """Ask questions about a note; answers stream with the prompt template training used. /base and /tuned switch
    the adapter off and on, /note FILE loads another note, /quit ends. Reads stdin, so it can be scripted."""
    session = api.chat(run, model, adapter, note, max_tokens)
    interactive = sys.stdin.isatty()
    err.print(session.greeting())
    while True:
        if interactive:
            sys.stdout.write("> ")
            sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            return
        try:
            if not session.handle(line.strip(), sys.stdout):
                return
        except ClintuneError as exc:  # a bad /note path and the like: say so, keep chatting
            say_error(exc.one_line())


def synth(
    teacher: Annotated[str, typer.Option("--teacher", help="Base URL of an OpenAI-compatible server, e.g. "
                                         "https://api.openai.com/v1 or http://127.0.0.1:8000/v1.")],
    teacher_model: Annotated[str, typer.Option("--teacher-model", help="The model name the teacher serves.")],
    source: Annotated[str, typer.Option("--source", help="Case reports: CSV, JSONL, Parquet, or .txt files.")],
    out: Annotated[Path, typer.Option("--out", help="Output FILE.jsonl (Asclepius schema); a rerun continues it.")],
    text_column: Annotated[str | None, typer.Option("--text-column", help="Column holding the case report "
                                                    "(PMC-Patients: patient).")] = None,
    n: Annotated[int | None, typer.Option("--n", min=1, help="Rows wanted (default: one per case report).")] = None,
    rpm: Annotated[int | None, typer.Option("--rpm", min=1, help="Requests per minute at most.")] = None,
    tpm: Annotated[int | None, typer.Option("--tpm", min=1, help="Tokens per minute at most.")] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Items in flight at once.")] = 4,
    api_key_env: Annotated[str | None, typer.Option("--api-key-env", help="Environment variable with the "
                                                    "teacher's API key (e.g. OPENAI_API_KEY).")] = None,
    temperature: Annotated[float, typer.Option("--temperature", min=0.0, max=2.0)] = 1.0,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1, help="Per teacher reply.")] = 1024,
    seed: Annotated[int, typer.Option("--seed", min=0, max=2**32 - 1, help="Seeds each item's task and "
                                          "example questions.")] = 0,
):
    """Make Asclepius-style training data from case reports with a teacher model; safe to interrupt and rerun."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    api_key = os.environ.get(api_key_env) if api_key_env else None
    if api_key_env and not api_key:
        raise ClintuneError(f"--api-key-env {api_key_env}: that environment variable is empty or unset",
                            fix=f"export {api_key_env}=<the teacher's key>")
    columns = (TextColumn("synth"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[tokens]:,} tokens"),
               TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        bar = progress.add_task("synth", total=n, tokens=0)
        summary = api.synthesize(teacher, teacher_model, source, out, text_column, n, rpm, tpm, concurrency,
                                 api_key, temperature, max_tokens, seed, on_progress=lambda done, wanted, tokens:
                                 progress.update(bar, completed=done, total=wanted, tokens=tokens))
    err.print(f"{summary['rows']} of {summary['wanted']} rows in {out} (+{summary['added']} now; "
              f"{summary['filtered']} filtered, {summary['failed']} failed: see {Path(summary['errors']).name}); "
              f"{summary['tokens']:,} teacher tokens")
