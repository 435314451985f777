"""The clintune command line: thin commands over `clintune.api` (parse the arguments, call the API, print).

`main` is the one place that sets the process up (telemetry off before any HF library loads, two warnings the user
can do nothing about kept out of their one-line errors) and the one error path: a problem the user can fix (bad
input, a full disk, a forbidden or read-only path) ends with exactly one line on stderr and exit code 2; a bug in
clintune keeps its traceback, says where to report it and exits 1.
"""

from __future__ import annotations

import logging
import sys
import traceback
import warnings

import typer

from clintune.cli import data, evaluate, memory, serve, train
from clintune.cli.console import error
from clintune.errors import INTERNAL_ERROR_EXIT_CODE, USER_ERROR_EXIT_CODE, ClintuneError, os_error
from clintune.privacy import disable_telemetry

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
for command in (train.train, train.demo, train.merge, train.doctor, memory.memory, serve.serve, serve.chat,
                serve.synth, evaluate.score, evaluate.report):
    app.command()(command)
app.command("eval")(evaluate.evaluate)


def main() -> None:
    disable_telemetry()
    # bitsandbytes warns at import that an optional Hub kernel for CPU 4-bit matmuls is missing; its own kernels work,
    # and a user's one-line error should not sit under that warning.
    logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)
    # PEFT and TRL still call transformers' old checkpointing name; the user can do nothing about it.
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
    try:
        app()  # typer reports usage errors itself (one message, exit 2); our own errors arrive here
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


def _internal_error() -> None:
    traceback.print_exc()
    error("this is a bug in clintune, not in your input: please report it with the traceback above and the "
          "output of `clintune doctor`")
    sys.exit(INTERNAL_ERROR_EXIT_CODE)
