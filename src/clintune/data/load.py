"""Open any supported data source as a `datasets.Dataset` in the clintune schema.

Sources: CSV/TSV, JSONL, JSON, Parquet, a `save_to_disk` folder, .txt notes (a file, or a folder of them), or a hub
dataset id when online. CSV and Parquet go through pyarrow's block readers (multi-threaded, never a Python object per
cell); a `save_to_disk` folder is memory-mapped. Bytes that are not UTF-8 are decoded as U+FFFD so the file still
opens, and validation reports the rows; values that are not text are kept as their JSON text and reported likewise.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from datasets import Dataset, DatasetDict, load_from_disk

from clintune.data.exports import MalformedRow, locate_malformed, refuse_malformed, tidy
from clintune.data.schema import COLUMNS, NOTE_ALIASES, TEXT_COLUMNS, UNSPECIFIED_TASK, parse_column_mapping
from clintune.errors import ClintuneError, listed
from clintune.privacy import hub_offline

FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json",
           ".parquet": "parquet", ".txt": "txt"}
HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
SUPPORTED = "CSV, TSV, JSONL, JSON, Parquet, .txt notes, a save_to_disk folder, or a hub dataset id"


@dataclass
class LoadedData:
    dataset: Dataset
    source: str
    content_hash: str
    notes_only: bool
    warnings: list[str] = field(default_factory=list)
    non_text: dict[str, list[int]] = field(default_factory=dict)  # column -> rows whose value was not text
    loading: dict = field(default_factory=dict)  # what loading decided (rows skipped, dropped, cleaned): for the card
    file_rows: list[int] | None = None  # the file's row number of each row, where loading dropped rows

    def file_row(self, index: int) -> int:
        """The row's number in the file (from 0), which reports show: rows dropped before it do not shift it."""
        return index if self.file_rows is None else self.file_rows[index]


def open_dataset(path: str | Path, columns: str | dict | None = None) -> Dataset:
    """The one entry point most callers need: any source in, a `datasets.Dataset` in the clintune schema out."""
    return load_data(path, columns).dataset


def load_data(path: str | Path, columns: str | dict | None = None, notes_only: bool | None = None,
              strict: bool = False, clean_export: bool = False) -> LoadedData:
    """`strict` refuses a file with malformed rows (else they are skipped and named) and leaves empty or repeated notes
    to validation (else notes-only data keeps one copy of each non-empty note); `clean_export` undoes an export's
    `,HEADING:,` commas and HTML entities (data/clean.py)."""
    mapping = parse_column_mapping(columns)
    source = str(path)
    path = Path(path)
    non_text: dict[str, list[int]] = {}
    malformed: list[MalformedRow] = []
    if path.is_dir():
        table, digest = _read_folder(path)
    elif path.is_file():
        kind = FORMATS.get(path.suffix.lower())
        if kind is None:
            raise ClintuneError(f"unsupported file type '{path.suffix}'", where=source, fix=f"use {SUPPORTED}")
        if path.stat().st_size == 0:
            raise ClintuneError("the file is empty", where=source, fix="give a file with a header and rows")
        digest, utf8 = _scan_file(path)
        table = _read_file(path, kind, utf8, non_text, malformed)
        if malformed and strict:
            refuse_malformed(malformed, source)
    elif HUB_ID.match(source) and not source.startswith(".") and path.suffix.lower() not in FORMATS:
        table, digest = _read_hub(source)
    else:
        raise ClintuneError("data file not found", where=source, fix=f"give the path of a file or folder ({SUPPORTED})")
    # The content hash (plus the mapping) is the dataset's fingerprint: without one, datasets hashes the whole table
    # in memory, which triples peak RSS on a 400 MB file.
    key = f"{digest}|{sorted(mapping.items())}|{notes_only}|{strict}|{clean_export}"
    fingerprint = hashlib.sha256(key.encode()).hexdigest()[:32]
    if table.num_rows == 0:
        header = " (a header and nothing under it)" if table.num_columns else ""
        raise ClintuneError(f"the data has no rows{header}", where=source, fix="give a file with at least one row")
    loaded = _to_schema(table, mapping, notes_only, non_text, source, fingerprint)
    tidied = tidy(loaded.dataset.data.table, loaded.notes_only, malformed, strict, clean_export)
    loaded.dataset = Dataset(tidied.table, fingerprint=fingerprint)
    loaded.warnings += tidied.warnings
    loaded.loading, loaded.file_rows = tidied.decisions, tidied.file_rows
    if tidied.decisions.get("empty_notes_dropped") and tidied.table.num_rows == 0:
        raise ClintuneError("no note is left: every note is empty", where=source, fix="check the column mapping "
                            "(--columns note=COLUMN)")
    loaded.content_hash = digest
    return loaded


def _scan_file(path: Path) -> tuple[str, bool]:
    """One streaming pass: the content hash, and whether the bytes are valid UTF-8."""
    digest, decoder, utf8 = hashlib.sha256(), codecs.getincrementaldecoder("utf-8")(), True
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
            if utf8:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    utf8 = False
    return "sha256:" + digest.hexdigest(), utf8


def _decode(raw: bytes) -> str:
    """UTF-8 text; undecodable bytes become U+FFFD (validation reports the rows that hold them)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("utf-8-sig", errors="replace")


def _read_file(path: Path, kind: str, utf8: bool, non_text: dict[str, list[int]],
               malformed: list[MalformedRow]) -> pa.Table:
    where = str(path)
    if kind == "parquet":
        try:
            return pq.read_table(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise ClintuneError(f"not a readable Parquet file ({exc})", where=where, fix="re-export it") from None
    if kind in ("csv", "tsv"):
        delimiter = "\t" if kind == "tsv" else ","
        _check_header(path, delimiter)
        # Valid UTF-8 streams from disk; otherwise the repaired text is parsed from memory.
        data = path if utf8 else io.BytesIO(_decode(path.read_bytes()).encode("utf-8"))
        invalid: list[int] = []

        def skip(row) -> str:  # a row with too few or too many fields: located and named below
            invalid.append(row.actual_columns)
            return "skip"

        options = pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True, invalid_row_handler=skip)
        text_types = {c: pa.string() for c in (*TEXT_COLUMNS, *NOTE_ALIASES)}
        raw = None if utf8 else data.getvalue()
        try:
            try:
                table = _stream_csv(data, options, text_types)
            except pa.ArrowInvalid as exc:
                if "patient_id" not in str(exc):
                    raise
                invalid.clear()  # ids that look numeric early and textual later: read them all as text
                data = path if utf8 else io.BytesIO(raw)
                table = _stream_csv(data, options, {**text_types, "patient_id": pa.string()})
            if invalid:
                malformed += locate_malformed(raw, path, delimiter, table.num_rows, where)
            return table
        except pa.ArrowInvalid as exc:
            if "straddling" in str(exc):  # pyarrow's words for one field larger than a whole read block
                raise ClintuneError(f"a field is longer than {_BLOCK // 2**20} MB, far more than any note",
                                    where=where, fix="look for a quote that is opened and never closed, or split "
                                    "the field") from None
            raise ClintuneError(f"not a readable {kind.upper()} file ({str(exc).splitlines()[0]})", where=where,
                                fix="check the quoting and the number of fields per row") from None
    if kind == "txt":
        return pa.table({"patient_id": [path.stem], "note": [_decode(path.read_bytes())]})
    if kind == "jsonl":
        records = []
        with path.open(encoding="utf-8-sig", errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                if line.strip():
                    records.append(_json_value(line, f"{where}:{number}"))
    else:
        records = _json_value(_decode(path.read_bytes()), where)
        if isinstance(records, dict):
            lists = [v for v in records.values() if isinstance(v, list)]
            records = lists[0] if len(lists) == 1 else records
        if not isinstance(records, list):
            raise ClintuneError("a JSON file must hold a list of rows", where=where,
                                fix="write [{\"note\": ..., \"question\": ...}, ...] or use JSONL")
    return _records_to_table(records, where, non_text)


def _check_header(path: Path, delimiter: str) -> None:
    """The header row, before the whole file is parsed: column names said twice, or another delimiter than the
    file type's (a ';'-separated "CSV", as spreadsheets in many locales export it), each get their own line."""
    with path.open("rb") as handle:
        sample = _decode(handle.read(1 << 16))
    lines = sample.splitlines()
    if not lines:
        return
    header = next(csv.reader([lines[0]], delimiter=delimiter), [])
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise ClintuneError(f"the header names column{'s' if len(repeated) > 1 else ''} {listed(repeated)} "
                            "more than once", where=str(path), fix="rename or remove the repeated columns")
    if len(header) == 1:
        others = [d for d in (";", "\t", "|", ",") if d != delimiter and len(lines[0].split(d)) > 1]
        if others:
            shown = {"\t": "tabs", ";": "';'", "|": "'|'", ",": "commas"}[others[0]]
            expected = "tabs" if delimiter == "\t" else "commas"
            fix = ("save it as a .tsv file" if others[0] == "\t" else "save it as a .csv file"
                   if others[0] == "," else "export it again with commas as the separator (or as .jsonl)")
            raise ClintuneError(f"the columns are separated by {shown}, not {expected}", where=str(path), fix=fix)


_BLOCK = 1 << 24


def _stream_csv(data, options: pa_csv.ParseOptions, types: dict) -> pa.Table:
    """Block by block (16 MB), which keeps peak memory near the table's own size; one-shot reading peaks at ~5x."""
    # One thread: pyarrow's read-ahead thread, alive at interpreter exit with our Python row handler, aborted the
    # process now and then (SIGABRT, "terminate called without an active exception") after a clean exit code.
    read = pa_csv.ReadOptions(block_size=_BLOCK, use_threads=False)
    reader = pa_csv.open_csv(data, read_options=read, parse_options=options,
                             convert_options=pa_csv.ConvertOptions(column_types=types, strings_can_be_null=False))
    return pa.Table.from_batches(list(reader), schema=reader.schema)


def _json_value(text: str, where: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ClintuneError(f"invalid JSON ({exc.msg} at column {exc.colno})", where=where,
                            fix="fix that line or re-export the file") from None


def _records_to_table(records: list, where: str, non_text: dict[str, list[int]]) -> pa.Table:
    names: dict[str, None] = {}
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise ClintuneError(f"row {index} is not an object", where=where,
                                fix='every row must be {"column": value}')
        names.update(dict.fromkeys(record))
    columns: dict[str, list] = {name: [] for name in names}
    for index, record in enumerate(records):
        for name in names:
            value = record.get(name)
            if name in ("messages", "patient_id") or isinstance(value, str):
                columns[name].append(value)
            else:
                if value is not None:
                    non_text.setdefault(name, []).append(index)
                columns[name].append("" if value is None else json.dumps(value))
    ids = columns.get("patient_id")
    if ids is not None and not all(isinstance(v, int) and not isinstance(v, bool) for v in ids):
        columns["patient_id"] = [None if v is None else str(v) for v in ids]  # one type per column: text ids
    return pa.table(columns)


def _read_folder(path: Path) -> tuple[pa.Table, str]:
    if (path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file():
        loaded = load_from_disk(str(path))
        if isinstance(loaded, DatasetDict):
            if "train" not in loaded:
                raise ClintuneError(f"the saved dataset has splits {', '.join(loaded)} but no 'train'", where=str(path),
                                    fix="save the split to use on its own")
            loaded = loaded["train"]
        digest = hashlib.sha256(loaded._fingerprint.encode()).hexdigest()
        return loaded.data.table, "fingerprint:" + digest
    files = sorted(path.glob("*.txt"))
    if not files:
        raise ClintuneError("the folder holds neither a saved dataset nor .txt notes", where=str(path),
                            fix="point at a save_to_disk folder, a folder of .txt notes, or a single data file")
    digest = hashlib.sha256()
    notes = []
    for file in files:
        raw = file.read_bytes()
        digest.update(file.name.encode() + b"\0" + raw)
        notes.append(_decode(raw))
    return pa.table({"patient_id": [f.stem for f in files], "note": notes}), "sha256:" + digest.hexdigest()


def _read_hub(dataset_id: str) -> tuple[pa.Table, str]:
    if hub_offline():
        raise ClintuneError(f"'{dataset_id}' is not a local path, and hub dataset ids need the network (offline mode)",
                            fix="download the file and pass its path, or unset HF_HUB_OFFLINE")
    from datasets import load_dataset

    loaded = load_dataset(dataset_id, split="train")
    return loaded.data.table, "fingerprint:" + loaded._fingerprint


def _from_messages(table: pa.Table, column: str) -> pa.Table:
    """messages-style rows: the last assistant turn is the answer and the user turn before it the question; the note
    is the part between the Asclepius markers when present, else the system message."""
    notes, questions, answers = [], [], []
    for messages in table.column(column).to_pylist():
        turns = messages if isinstance(messages, list) else []
        by_role = {}
        for turn in turns:
            if isinstance(turn, dict):
                by_role.setdefault(turn.get("role"), []).append(str(turn.get("content") or ""))
        user = (by_role.get("user") or [""])[-1]
        note = (by_role.get("system") or [""])[0]
        if "[Discharge Summary Begin]" in user and "[Instruction Begin]" in user:
            note = user.split("[Discharge Summary Begin]", 1)[1].split("[Discharge Summary End]", 1)[0].strip()
            user = user.split("[Instruction Begin]", 1)[1].split("[Instruction End]", 1)[0].strip()
        notes.append(note)
        questions.append(user)
        answers.append((by_role.get("assistant") or [""])[-1])
    rest = table.drop_columns([column])
    return rest.append_column("note", pa.array(notes)).append_column("question", pa.array(questions)) \
        .append_column("answer", pa.array(answers))


def _to_schema(table: pa.Table, mapping: dict[str, str], notes_only: bool | None, non_text: dict[str, list[int]],
               source: str, fingerprint: str) -> LoadedData:
    warnings: list[str] = []
    names = list(table.column_names)
    for column in mapping.values():
        if column not in names:
            raise ClintuneError(f"column '{column}' named in the column mapping is not in the data", where=source,
                                fix=f"the data has: {listed(names)}")
    if "messages" in mapping:
        table = _from_messages(table, mapping.pop("messages"))
    renames = {column: target for target, column in mapping.items()}
    if "note" not in renames.values() and "note" not in table.column_names:
        for alias in NOTE_ALIASES:
            if alias in table.column_names:
                renames[alias] = "note"
                warnings.append(f"column '{alias}' read as 'note' (the Asclepius dataset card's name for it)")
    table = table.rename_columns([renames.get(name, name) for name in table.column_names])
    for old, new in renames.items():
        if old in non_text:
            non_text[new] = non_text.pop(old)
    present = set(table.column_names)
    if notes_only is None:
        notes_only = "note" in present and not present & {"question", "answer"}
    extra = [c for c in table.column_names if c not in COLUMNS]
    if extra:
        warnings.append(f"ignored columns: {listed(c or '(unnamed)' for c in extra)}")
    table = table.select([c for c in COLUMNS if c in present and (not notes_only or c in ("patient_id", "note"))])
    for column in TEXT_COLUMNS:  # Arrow sources with numbers or lists where text belongs
        if column in table.column_names and not pa.types.is_string(table.schema.field(column).type) \
                and not pa.types.is_large_string(table.schema.field(column).type):
            values = table.column(column).to_pylist()
            non_text[column] = [i for i, v in enumerate(values) if v is not None]
            text = ["" if v is None else (v if isinstance(v, str) else json.dumps(v, default=str)) for v in values]
            table = table.set_column(table.column_names.index(column), column, pa.array(text, pa.string()))
    if "note" in table.column_names and "patient_id" not in table.column_names:
        first_row_of: dict[str, int] = {}
        ids = [first_row_of.setdefault(note, i) for i, note in enumerate(table.column("note").to_pylist())]
        table = table.add_column(0, "patient_id", pa.array(ids, pa.int64()))
        warnings.append("no patient_id column: rows with the same note are treated as one patient")
    if not notes_only and "task" not in table.column_names and {"question", "answer"} <= set(table.column_names):
        table = table.append_column("task", pa.array([UNSPECIFIED_TASK] * table.num_rows, pa.string()))
        warnings.append(f"no task column: every row gets task '{UNSPECIFIED_TASK}'")
    return LoadedData(Dataset(table, fingerprint=fingerprint), source, "", notes_only, warnings, non_text)
