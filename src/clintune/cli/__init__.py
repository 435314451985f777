"""The clintune command line: thin commands over `clintune.api` (parse the arguments, call the API, print).

`main` is the one place that sets the process up (telemetry off before any HF library loads, two warnings the user
can do nothing about kept out of their one-line errors) and the one error path: a problem the user can fix (bad
input, a full disk, a forbidden or read-only path) ends with exactly one line on stderr and exit code 2; a bug in
clintune keeps its traceback, says where to report it and exits 1.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import traceback
import warnings

import typer

from clintune.cli import bench, data, evaluate, export, memory, serve, studio, train
from clintune.cli.console import err, error
from clintune.errors import INTERNAL_ERROR_EXIT_CODE, USER_ERROR_EXIT_CODE, ClintuneError, os_error
from clintune.privacy import disable_telemetry

INTERRUPTED_EXIT_CODE = 130

app = typer.Typer(
    help="clintune: build instruction-following clinical LLMs the Asclepius way (synthetic notes, LoRA, evaluation).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(train.models_app, name="models")
app.add_typer(train.recipes_app, name="recipes")
app.add_typer(train.config_app, name="config")
app.add_typer(data.data_app, name="data")
app.add_typer(evaluate.prompt_app, name="prompt")
for command in (train.train, train.demo, train.merge, export.export, train.doctor, memory.memory, serve.serve,
                serve.chat, serve.synth, evaluate.score, evaluate.report, evaluate.pairs, bench.bench, studio.studio):
    app.command()(command)
app.command("eval")(evaluate.evaluate)


def run() -> None:
    """The `clintune` process: `main`, then the end of the process (see `_end`). In-process callers use `main`, which
    ends with SystemExit like any command line."""
    try:
        main()
    except SystemExit as exc:
        _end(exc.code)
    _end(0)


def _end(code) -> None:
    """Exit with `code`. Once pyarrow is loaded (data files, datasets) the process ends without Python's finalization:
    under load, pyarrow's thread pools sometimes met their C++ destructors still running, and the process died with
    SIGABRT ("terminate called without an active exception") after its exit code and last line were decided. What
    finalization would do that matters is done here: the other threads joined, the logs and streams flushed."""
    if "pyarrow" not in sys.modules:
        sys.exit(code)
    if code is not None and not isinstance(code, int):  # sys.exit("message"): said on stderr, exit 1
        print(code, file=sys.stderr)
        code = 1
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code or 0)


def main() -> None:
    disable_telemetry()
    # bitsandbytes warns at import that an optional Hub kernel for CPU 4-bit matmuls is missing; its own kernels work,
    # and a user's one-line error should not sit under that warning.
    logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)
    # PEFT and TRL still call transformers' old checkpointing name; the user can do nothing about it.
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
    try:
        code = app(standalone_mode=False)  # every error comes here, to be said in one line
    except typer.TyperException as exc:  # a usage error: an unknown option, a value out of range
        message = exc.format_message()
        if "\n" in message:  # a command given without its arguments: the message is its help
            err.print(message)
        else:
            command = getattr(getattr(exc, "ctx", None), "command_path", "clintune")
            error(f"{message.rstrip('.')}; see `{command} --help`")
        sys.exit(exc.exit_code)
    except typer.Abort:
        error("aborted")
        sys.exit(INTERNAL_ERROR_EXIT_CODE)
    except ClintuneError as exc:
        error(exc.one_line())
        sys.exit(USER_ERROR_EXIT_CODE)
    except OSError as exc:
        problem = os_error(exc)
        if problem is None:
            _internal_error()
        error(problem.one_line())
        sys.exit(USER_ERROR_EXIT_CODE)
    except Exception:
        _internal_error()
    if code == INTERRUPTED_EXIT_CODE:  # Ctrl-C: typer turned it into this exit code
        error("interrupted (Ctrl-C)")
    if isinstance(code, int):  # a command's typer.Exit(code), or --help's 0
        sys.exit(code)


def _internal_error() -> None:
    traceback.print_exc()
    error("this is a bug in clintune, not in your input: please report it with the traceback above and the "
          "output of `clintune doctor`")
    sys.exit(INTERNAL_ERROR_EXIT_CODE)
