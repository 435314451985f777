"""Checks that data is usable for training, one report line per kind of problem.

The same function runs for `clintune data validate` and before every training run. Rows are numbered from 0 in
file order, as in the file even where loading dropped rows before them. Unknown task labels are a warning; everything
else here makes the data unusable until fixed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from clintune.data.load import LoadedData
from clintune.data.schema import QA_REQUIRED, SELF_REFERENCE_PHRASES, TASKS, TEXT_COLUMNS, UNSPECIFIED_TASK
from clintune.errors import listed

DEFAULT_MAX_NOTE_CHARS = 16_000  # the longest Asclepius note is 5,830 characters; far beyond that is a join gone wrong
SHOWN_ROWS = 5
_SELF_REFERENCE = re.compile("|".join(re.escape(p) for p in SELF_REFERENCE_PHRASES), re.IGNORECASE)

# kind -> (what the line says, how to fix it)
KINDS = {
    "missing_columns": ("missing columns", "add them, or map yours with --columns canonical=source"),
    "empty": ("empty or whitespace-only fields", "fill or drop those rows"),
    "non_text": ("values that are not text", "store note, question, answer and task as strings"),
    "undecodable": ("undecodable bytes (shown as U+FFFD)", "re-export the file as UTF-8"),
    "duplicates": ("duplicate rows (same note, question and answer)", "drop the repeats"),
    "unknown_task": ("unknown task labels", "use the 8 Asclepius labels if you want per-task reports"),
    "answer_question_mark": ("answers ending in '?'", "the Asclepius filters drop these; fix or drop the rows"),
    "self_reference": ("model self-reference phrases in a question or answer", "the Asclepius filters drop these"),
    "note_too_long": ("notes longer than {limit:,} characters", "split or drop them, or raise --max-note-chars"),
}
WARNING_KINDS = {"unknown_task"}


@dataclass
class Problem:
    kind: str
    rows: list[int] = field(default_factory=list)
    detail: str = ""

    @property
    def severity(self) -> str:
        return "warning" if self.kind in WARNING_KINDS else "error"


@dataclass
class ValidationReport:
    source: str
    rows: int
    notes_only: bool
    max_note_chars: int
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def line(self, problem: Problem) -> str:
        what, fix = KINDS[problem.kind]
        what = what.format(limit=self.max_note_chars)
        if problem.kind == "missing_columns":
            return f"{problem.severity}: {what}: {problem.detail}; fix: {fix}"
        shown = listed(problem.rows, SHOWN_ROWS)
        detail = f" [{problem.detail}]" if problem.detail else ""
        plural = "s" if len(problem.rows) > 1 else ""
        count = f"{len(problem.rows):,} row{plural} (row{plural} {shown})"
        return f"{problem.severity}: {what}{detail}: {count}; fix: {fix}"

    def lines(self) -> list[str]:
        return [self.line(p) for p in self.problems]

    def as_json(self) -> dict:
        return {
            "source": self.source, "rows": self.rows, "notes_only": self.notes_only, "ok": self.ok,
            "warnings": self.warnings,
            "problems": [{"kind": p.kind, "severity": p.severity, "count": len(p.rows), "rows": p.rows[:100],
                          "detail": p.detail, "message": self.line(p)} for p in self.problems],
        }


def asclepius_filter(question: str, answer: str) -> str | None:
    """The Asclepius dataset's own filters, the one copy in clintune (validation and synthesis both use it): the kind
    of problem, `self_reference` (the question or answer talks about a model) or `answer_question_mark`, else None."""
    if _SELF_REFERENCE.search(question) or _SELF_REFERENCE.search(answer):
        return "self_reference"
    if answer.rstrip().endswith("?"):
        return "answer_question_mark"
    return None


def validate(loaded: LoadedData, max_note_chars: int = DEFAULT_MAX_NOTE_CHARS) -> ValidationReport:
    dataset = loaded.dataset
    report = ValidationReport(loaded.source, len(dataset), loaded.notes_only, max_note_chars,
                              warnings=list(loaded.warnings))
    required = ("note",) if loaded.notes_only else QA_REQUIRED
    missing = [c for c in required if c not in dataset.column_names]
    if missing:
        report.problems.append(Problem("missing_columns", detail=f"{listed(missing)} (the data has: "
                                       f"{listed(dataset.column_names) or 'no columns'})"))
        return report

    columns = [c for c in TEXT_COLUMNS if c in dataset.column_names]
    found: dict[str, list[int]] = {kind: [] for kind in KINDS}
    empty_columns: set[str] = set()
    unknown_labels: set[str] = set()
    seen: set[int] = set()
    offset = 0
    for batch in dataset.iter(batch_size=8192):
        for i in range(len(batch["note"])):
            row = offset + i
            values = {c: batch[c][i] or "" for c in columns}
            blank = [c for c, v in values.items() if not v.strip()]
            if blank:
                found["empty"].append(row)
                empty_columns.update(blank)
            if any("\ufffd" in v for v in values.values()):
                found["undecodable"].append(row)
            key = hash((values["note"], values.get("question"), values.get("answer")))
            if key in seen:
                found["duplicates"].append(row)
            seen.add(key)
            if len(values["note"]) > max_note_chars:
                found["note_too_long"].append(row)
            if loaded.notes_only:
                continue
            task = values.get("task", UNSPECIFIED_TASK)
            if task.strip() and task not in TASKS and task != UNSPECIFIED_TASK:
                found["unknown_task"].append(row)
                unknown_labels.add(task)
            kind = asclepius_filter(values["question"], values["answer"])
            if kind:
                found[kind].append(row)
        offset += len(batch["note"])
    if loaded.file_rows is not None:  # report the rows' numbers in the file, past the rows loading dropped
        found = {kind: [loaded.file_row(r) for r in rows] for kind, rows in found.items()}
    found["non_text"] = sorted({r for c, rows in loaded.non_text.items() if c in columns for r in rows})
    details = {
        "empty": ", ".join(c for c in columns if c in empty_columns),
        "non_text": ", ".join(c for c in columns if loaded.non_text.get(c)),
        "unknown_task": ", ".join(repr(t[:40]) for t in sorted(unknown_labels)[:3]),
    }
    for kind, rows in found.items():
        if rows:
            report.problems.append(Problem(kind, rows, details.get(kind, "")))
    return report
