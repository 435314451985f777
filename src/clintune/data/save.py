"""Write rows to the formats `load_data` reads, atomically (a temporary name, then a rename)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from clintune.errors import ClintuneError
from clintune.runs import atomic_file, write_json, write_jsonl

WRITABLE = (".jsonl", ".json", ".csv", ".parquet")


def save_rows(rows: list[dict], path: Path) -> None:
    suffix = path.suffix.lower()
    if path.is_dir():
        raise ClintuneError(f"--out {path} is a folder", fix=f"give a file path, such as {path / 'notes.jsonl'}")
    if suffix not in WRITABLE:
        raise ClintuneError(f"cannot write '{suffix or path.name}' files", where=str(path),
                            fix=f"name the output with one of: {', '.join(WRITABLE)}")
    if suffix == ".jsonl":
        write_jsonl(path, rows)
        return
    if suffix == ".json":
        write_json(path, rows)
        return
    table = pa.Table.from_pylist(rows)
    with atomic_file(path) as tmp:
        if suffix == ".csv":
            pa_csv.write_csv(table, tmp)
        else:
            pq.write_table(table, tmp)
