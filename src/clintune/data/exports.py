"""What real exports need before they are usable, decided in the open: malformed CSV rows skipped and named, empty and
repeated notes dropped from notes-only data, the export's layout artefacts cleaned on request.

    tidy(table, notes_only, malformed, strict=False, clean=True)  # load.py, on the table it has read

Real files are not tidy: an export cut off inside its last row, a note filed twice under two specialties, a web copy
whose headings became `,HEADING:,`. Refusing the whole file over one such row helps no one, and silently dropping it
hides a decision from the data card, so every decision here is a warning line and an entry of the card's `loading`,
and `strict` refuses the file instead, naming the first row. Rows keep the numbers they have in the file (from 0, the
header not counted), whatever was dropped before them.
"""

from __future__ import annotations

import csv
import html
import io
import sys
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from clintune.data.clean import clean_export_text
from clintune.errors import ClintuneError, listed

STRICT_FIX = "leave out --strict to skip such rows (each is named), or repair the file"


@dataclass(frozen=True)
class MalformedRow:
    row: int  # from 0, the header not counted: the number a spreadsheet's index column shows
    line: int  # the line of the file it starts on, from 1
    fields: int
    expected: int

    def reason(self) -> str:
        why = "cut off, or a quote that is never closed" if self.fields < self.expected else "a comma outside quotes?"
        return f"{_count(self.fields, 'field')} where the header has {self.expected} ({why})"

    def as_json(self) -> dict:
        return {"row": self.row, "line": self.line, "reason": self.reason()}


def malformed_csv_rows(text: Iterable[str], delimiter: str) -> tuple[list[MalformedRow], int]:
    """(rows whose field count differs from the header's, data rows in all), by Python's csv reader: pyarrow skips
    such rows but cannot say where they are once values may span lines."""
    previous_limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)  # a note can be longer than the reader's default 128 kB field; restored below
    try:
        reader = csv.reader(text, delimiter=delimiter)
        header = next(reader, [])
        bad, row, line = [], 0, reader.line_num + 1
        for record in reader:
            if record and len(record) != len(header):
                bad.append(MalformedRow(row, line, len(record), len(header)))
            row += 1 if record else 0
            line = reader.line_num + 1
        return bad, row
    finally:
        csv.field_size_limit(previous_limit)


def locate_malformed(raw: bytes | None, path, delimiter: str, kept_rows: int, where: str) -> list[MalformedRow]:
    """The rows pyarrow skipped, found again by number; `raw` holds the repaired text when the file was not UTF-8."""
    if raw is not None:
        bad, total = malformed_csv_rows(io.StringIO(raw.decode("utf-8"), newline=""), delimiter)
    else:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            bad, total = malformed_csv_rows(handle, delimiter)
    if not bad or total - len(bad) != kept_rows:  # the two readers disagree: better refuse than misnumber rows
        raise ClintuneError("some rows have the wrong number of fields, and they could not be located",
                            where=where, fix="check the quoting and the number of fields per row")
    return bad


def refuse_malformed(bad: list[MalformedRow], where: str) -> None:
    first = bad[0]
    more = f" ({len(bad)} such rows)" if len(bad) > 1 else ""
    raise ClintuneError(f"row {first.row} (line {first.line}) has {first.reason()}{more}", where=where, fix=STRICT_FIX)


@dataclass
class Tidied:
    table: pa.Table
    file_rows: list[int] | None  # the file's row number of each row left, where any were dropped; None: the same
    decisions: dict  # for the data card
    warnings: list[str]


def tidy(table: pa.Table, notes_only: bool, malformed: list[MalformedRow], strict: bool, clean: bool) -> Tidied:
    """Loading's decisions on a table in the clintune schema: number rows as in the file past skipped ones, clean
    export artefacts, and keep one copy of each non-empty note in notes-only data (unless `strict`, when validation
    refuses empties and repeats instead)."""
    decisions: dict = {"strict": strict, "export_cleaned": clean}
    warnings: list[str] = []
    rows = list(range(table.num_rows))
    if malformed:
        skipped = {m.row for m in malformed}
        rows = [r for r in range(table.num_rows + len(skipped)) if r not in skipped]
        decisions["malformed_rows_skipped"] = [m.as_json() for m in malformed]
        first = malformed[0]
        more = f" and {len(malformed) - 1} more" if len(malformed) > 1 else ""
        warnings.append(f"skipped {_count(len(malformed), 'malformed row')}: row {first.row} (line {first.line}) has "
                        f"{first.reason()}{more}; --strict refuses the file instead")
    if clean:
        table = _cleaned(table)
    if notes_only and not strict and "note" in table.column_names:
        keep, empty, repeated = _distinct_notes(table.column("note").to_pylist())
        if empty:
            decisions["empty_notes_dropped"] = [rows[i] for i in empty]
            warnings.append(f"dropped {_count(len(empty), 'empty note')} ({_rows(decisions['empty_notes_dropped'])})")
        if repeated:
            decisions["repeated_notes_dropped"] = [rows[i] for i in repeated]
            warnings.append(f"kept one copy of each repeated note: {_count(len(repeated), 'row')} repeat an earlier "
                            f"one ({_rows(decisions['repeated_notes_dropped'])})")
        if empty or repeated:
            table = table.take(pa.array(keep, pa.int64()))
            rows = [rows[i] for i in keep]
    return Tidied(table, rows if rows != list(range(len(rows))) else None, decisions, warnings)


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'s' if n != 1 else ''}"


def _rows(rows: list[int]) -> str:
    return f"row{'s' if len(rows) != 1 else ''} {listed(rows)}"


def _cleaned(table: pa.Table) -> pa.Table:
    """Notes with headings and list items back on their own lines; questions and answers only unescaped."""
    for column in ("note", "question", "answer"):
        if column in table.column_names:
            fix = clean_export_text if column == "note" else html.unescape
            values = [fix(v) if isinstance(v, str) else v for v in table.column(column).to_pylist()]
            table = table.set_column(table.column_names.index(column), column, pa.array(values, pa.string()))
    return table


def _distinct_notes(notes: list) -> tuple[list[int], list[int], list[int]]:
    """(positions to keep, positions of empty notes, positions of notes that repeat an earlier one)."""
    keep, empty, repeated, seen = [], [], [], set()
    for i, note in enumerate(notes):
        if not isinstance(note, str) or not note.strip():
            empty.append(i)
        elif note in seen:
            repeated.append(i)
        else:
            seen.add(note)
            keep.append(i)
    return keep, empty, repeated
