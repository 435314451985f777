"""`clintune serve` and `clintune chat`: thin wrappers over clintune.serve (parse, call the library, print)."""

from __future__ import annotations

import ipaddress
import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from clintune.errors import ClintuneError

err = Console(stderr=True, soft_wrap=True)

RunOpt = Annotated[Path | None, typer.Option("--run", help="A training run directory: serves what it trained.")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Or a model short name, folder or hub id.")]
AdapterOpt = Annotated[str | None, typer.Option("--adapter", help="With --model: a LoRA adapter folder.")]


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


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
):
    """Serve a model over the OpenAI API: /v1/chat/completions (streaming too), /v1/completions, /v1/models."""
    api_key = None
    if api_key_env:
        api_key = os.environ.get(api_key_env)
        if not api_key:
            raise ClintuneError(f"--api-key-env {api_key_env}: that environment variable is empty or unset",
                                fix=f"export {api_key_env}=<a secret> before starting the server")
    if not _loopback(host) and api_key is None:
        err.print(f"warning: serving on {host} without an API key: anyone who can reach it can use the model",
                  highlight=False)
    import uvicorn

    from clintune.serve.app import ServerLimits, create_app
    from clintune.serve.engine import open_served

    served = open_served(run, model, adapter)
    app = create_app(served, ServerLimits(max_tokens, max_queue, max_body, api_key))
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           timeout_graceful_shutdown=5))
    err.print(f"serving {served.name} at http://{host}:{port}/v1 "
              f"({'API key required' if api_key else 'no API key'}); Ctrl-C stops", highlight=False)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM and then re-raises the signal through the handlers it found;
    # these ones let a server that stopped as asked exit 0 instead of dying "killed by SIGTERM".
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
    server.run()
    err.print("stopped", highlight=False)


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
    from clintune.serve.chat import ChatSession

    session = ChatSession.open(run, model, adapter, max_tokens)
    if note is not None:
        session.load_note(note)
    interactive = sys.stdin.isatty()
    err.print(session.greeting(), highlight=False)
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
            err.print(f"error: {exc.one_line()}", highlight=False)


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
    seed: Annotated[int, typer.Option("--seed", help="Seeds each item's task and example questions.")] = 0,
):
    """Make Asclepius-style training data from case reports with a teacher model; safe to interrupt and rerun."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from clintune.openai_client import ChatClient
    from clintune.runs import write_json
    from clintune.synth.synthesize import Synthesizer, SynthSettings, load_case_reports

    api_key = os.environ.get(api_key_env) if api_key_env else None
    if api_key_env and not api_key:
        raise ClintuneError(f"--api-key-env {api_key_env}: that environment variable is empty or unset",
                            fix=f"export {api_key_env}=<the teacher's key>")
    sources = load_case_reports(source, text_column)
    if not sources:
        raise ClintuneError("the source holds no case report text", where=source,
                            fix="point --text-column at the column with the case reports")
    wanted = n or len(sources)
    client = ChatClient(teacher, teacher_model, api_key, rpm, tpm)
    synthesizer = Synthesizer(client, out, SynthSettings(wanted, concurrency, seed, temperature, max_tokens))
    columns = (TextColumn("synth"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[tokens]:,} tokens"),
               TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("synth", total=wanted, completed=synthesizer.accepted, tokens=0)
        result = synthesizer.run(sources, on_row=lambda: progress.update(
            task, completed=synthesizer.accepted, tokens=client.tokens_used))
    client.close()
    summary = {"out": str(out), "rows": result.rows, "wanted": wanted, "added": result.written,
               "filtered": result.filtered, "failed": result.failed, "tokens": result.tokens, "teacher": teacher,
               "teacher_model": teacher_model, "source": source, "seed": seed, "temperature": temperature}
    write_json(out.with_name(out.stem + ".synth.json"), summary)
    err.print(f"{result.rows} of {wanted} rows in {out} (+{result.written} now; {result.filtered} filtered, "
              f"{result.failed} failed: see {synthesizer.errors_path.name}); {result.tokens:,} teacher tokens",
              highlight=False)
    if result.rows < wanted:
        raise ClintuneError(f"only {result.rows} of {wanted} rows: the source ran out of usable case reports",
                            where=str(synthesizer.errors_path), fix="add case reports, or rerun to retry failures")
