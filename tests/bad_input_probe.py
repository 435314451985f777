"""The bad-input probe: drives the real `clintune` command line in this process (its `main`, exactly what the console
script runs) over many bad inputs, and checks each failure is the user's: the expected exit code, the cause as the
last stderr line, no traceback, nothing half-written, the input files unchanged.

    probe = Probe()
    probe.expect("csv", ["data", "validate", "dup.csv"], "more than once")
    probe.failures()  # [] when every input was handled
    print(probe.table())
"""

from __future__ import annotations

import hashlib
import io
import sys
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str

    @property
    def last_line(self) -> str:
        lines = self.stderr.strip().splitlines()
        return lines[-1] if lines else ""


def run_cli(args: list[str]) -> Outcome:
    """`clintune ARGS` through the console script's own entry point, in this process."""
    from clintune.cli import main

    out, err, argv = io.StringIO(), io.StringIO(), sys.argv
    sys.argv = ["clintune", *args]
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = argv
    return Outcome(code, out.getvalue(), err.getvalue())


def _digest(path: Path) -> str:
    if path.is_dir():
        return "|".join(f"{p.relative_to(path)}:{_digest(p)}" for p in sorted(path.rglob("*")) if p.is_file())
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "absent"


@dataclass
class Probe:
    results: list[tuple[str, list[str], str]] = field(default_factory=list)  # (group, args, problem or "")

    def expect(self, group: str, args: list[str], cause: str, code: int = 2, inputs: tuple[Path, ...] = (),
               absent: tuple[Path, ...] = ()) -> Outcome:
        """Run one bad input: exit `code`, `cause` in the last stderr line (an `error:` line for exit 2), no
        traceback, the `inputs` unchanged and the `absent` paths not created."""
        before = [_digest(p) for p in inputs]
        outcome = run_cli([str(a) for a in args])
        problems = []
        if outcome.code != code:
            problems.append(f"exit {outcome.code}, not {code}")
        if "Traceback" in outcome.stderr:
            problems.append("a traceback")
        if code == 2 and not outcome.last_line.startswith("error: "):
            problems.append("the last line is not the error")
        if cause.lower() not in outcome.last_line.lower():
            problems.append(f"'{cause}' not in the last line")
        if [_digest(p) for p in inputs] != before:
            problems.append("an input changed")
        problems += [f"{p} was left behind" for p in absent if p.exists() or any(p.parent.glob(f".{p.name}.*"))]
        detail = f"{'; '.join(problems)} -- last line: {outcome.last_line[:300]!r}" if problems else ""
        self.results.append((group, [str(a) for a in args], detail))
        return outcome

    def expect_http(self, group: str, client, method: str, path: str, status: int, body=None, raw: bytes | None = None,
                    headers: dict | None = None, param: str | None = None):
        """One bad request to a real server: HTTP `status` with OpenAI's error shape ({"error": {"message", "type",
        "param", "code"}}) naming `param` when given, and never a 5xx for a client's mistake."""
        response = client.request(method, path, json=body if raw is None else None, content=raw, headers=headers)
        problems = []
        if response.status_code != status:
            problems.append(f"HTTP {response.status_code}, not {status}")
        try:
            error = response.json().get("error") or {}
        except ValueError:
            error = {}
        if not {"message", "type", "param", "code"} <= set(error):
            problems.append("not an OpenAI-shaped error")
        if param is not None and not str(error.get("param")).startswith(param):  # "messages.0.role" names messages
            problems.append(f"param {error.get('param')!r}, not {param!r}")
        shown = raw[:60].decode(errors="replace") if raw is not None else str(body)[:100]
        detail = f"{'; '.join(problems)} -- {response.text[:200]!r}" if problems else ""
        self.results.append((group, [method, path, shown], detail))
        return response

    def failures(self) -> list[str]:
        return [f"[{group}] clintune {' '.join(args)}: {detail}" for group, args, detail in self.results if detail]

    def table(self) -> str:
        tried = Counter(group for group, _, _ in self.results)
        failed = Counter(group for group, _, detail in self.results if detail)
        rows = [f"| {g} | {n} | {n - failed[g]} | {failed[g]} |" for g, n in tried.items()]
        total = len(self.results)
        return "\n".join(["| group | inputs tried | handled | failed |", "|---|---|---|---|", *rows,
                          f"| all | {total} | {total - sum(failed.values())} | {sum(failed.values())} |"])
