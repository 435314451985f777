"""Write rows to the formats `load_data` reads, atomically (a temporary name, then a rename)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from clintune.errors import ClintuneError
from clintune.runs import write_text

WRITABLE = (".jsonl", ".json", ".csv", ".parquet")


def save_rows(rows: list[dict], path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix not in WRITABLE:
        raise ClintuneError(f"cannot write '{suffix or path.name}' files", where=str(path),
                            fix=f"name the output with one of: {', '.join(WRITABLE)}")
    if suffix == ".jsonl":
        write_text(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
        return
    if suffix == ".json":
        write_text(path, json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(rows)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        if suffix == ".csv":
            pa_csv.write_csv(table, tmp)
        else:
            pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
