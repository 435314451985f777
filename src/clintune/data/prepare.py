"""From loaded data to training splits: validate, filter, sample, scan for identifiers, split, and write a data card.

`prepare` is what `clintune data prepare` runs and what training runs first, so the data a model sees is always the
data the card describes. The card records the source and its content hash, the row count before and after each
step, the task mix per split and the identifier-scan result (counts only, never text).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from datasets import Dataset

from clintune.config import DataSection
from clintune.data.generate import generate_rows
from clintune.data.load import LoadedData, load_data
from clintune.data.phi import Finding, scan_rows, summarize_findings
from clintune.data.split import sample_by_task, split_by_patient
from clintune.data.validate import validate
from clintune.errors import ClintuneError
from clintune.runs import write_json, write_jsonl

TokenLength = Callable[[dict], int]


@dataclass
class Prepared:
    splits: dict[str, Dataset]
    card: dict
    findings: list[Finding] = field(default_factory=list)


def synthetic_data(n: int, seed: int, kinds: list[str] | None = None) -> LoadedData:
    """The built-in generator's rows, as if loaded from a file (the demo's and the tests' default dataset)."""
    rows = generate_rows(n, seed=seed, kinds=tuple(kinds) if kinds else None)
    digest = hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()
    what = f"{', '.join(kinds)}; " if kinds else ""
    source = f"synthetic (clintune generator, {what}{n} rows, seed {seed})"
    return LoadedData(Dataset.from_list(rows), source, "sha256:" + digest, notes_only=False)


def load_for_training(options: DataSection) -> LoadedData:
    if options.path is None:
        return synthetic_data(options.synthetic_rows, options.seed, options.note_kinds)
    return load_data(options.path, options.columns, strict=options.strict, clean_export=options.clean_export)


def _task_mix(dataset: Dataset) -> dict[str, int]:
    if "task" not in dataset.column_names:
        return {}
    return dict(sorted(Counter(dataset["task"]).items(), key=lambda kv: (-kv[1], kv[0])))


def prepare(loaded: LoadedData, options: DataSection, token_length: TokenLength | None = None,
            token_limit_label: str = "") -> Prepared:
    """Validate, filter by note characters and example tokens, sample by task, scan, split by patient."""
    report = validate(loaded, max_note_chars=options.reject_notes_over)
    if not report.ok:
        first = next(p for p in report.problems if p.severity == "error")
        raise ClintuneError(f"the data failed validation: {report.line(first)}", where=loaded.source,
                            fix="run `clintune data validate` on it for the full report")
    dataset = loaded.dataset
    counts = [{"step": "loaded", "rows": len(dataset)}]
    if options.max_note_chars:
        limit = options.max_note_chars
        dataset = dataset.filter(lambda notes: [len(n) <= limit for n in notes], input_columns="note", batched=True,
                                 desc=f"notes <= {limit} chars")
        counts.append({"step": f"note <= {limit} characters", "rows": len(dataset)})
    if options.max_tokens and not loaded.notes_only:  # notes alone are cut into pretraining blocks, never refused
        if token_length is None:
            raise ClintuneError("data.max_tokens needs a tokenizer", fix="pass --tokenizer MODEL (or drop max_tokens)")
        limit = options.max_tokens
        dataset = dataset.filter(lambda row: token_length(row) <= limit, desc=f"examples <= {limit} tokens")
        counts.append({"step": f"example <= {limit} tokens{token_limit_label}", "rows": len(dataset)})
    if options.sample and not loaded.notes_only:
        dataset = sample_by_task(dataset, options.sample, options.seed)
        counts.append({"step": f"stratified sample of {options.sample}", "rows": len(dataset)})
    if len(dataset) == 0:
        raise ClintuneError("no rows are left after filtering", where=loaded.source,
                            fix="loosen data.max_note_chars / data.max_tokens")

    columns = ["note"] if loaded.notes_only else ["note", "question", "answer"]
    findings = list(scan_rows(dataset.select_columns(columns), columns))
    scan = {**summarize_findings(findings), "allowed_with_reason": options.allow_phi}
    if findings and not options.allow_phi:
        classes = ", ".join(f"{cls} {n}" for cls, n in scan["by_class"].items())
        raise ClintuneError(
            f"{scan['rows_with_findings']} rows contain patient identifiers ({classes})", where=loaded.source,
            fix="run `clintune data scan-phi` to see where and remove them, or pass --allow-phi \"reason\"",
        )

    if loaded.notes_only:
        splits = {"train": dataset}
    else:
        splits = split_by_patient(dataset, options.test_size, options.val_size, options.seed)
    card = {
        "source": loaded.source,
        "content_hash": loaded.content_hash,
        "prepared_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "notes_only": loaded.notes_only,
        "options": options.model_dump(mode="json"),
        "counts": counts,
        "task_mix": _task_mix(dataset),
        "splits": {name: {"rows": len(split), "patients": len(set(split["patient_id"])), "tasks": _task_mix(split)}
                   for name, split in splits.items()},
        "loading": loaded.loading,
        "identifier_scan": scan,
        "validation": {"warnings": report.warnings + [report.line(p) for p in report.problems]},
    }
    return Prepared(splits, card, findings)


def write_prepared(prepared: Prepared, out_dir: Path) -> list[Path]:
    """{split}.jsonl for each split, and data_card.json; each written atomically."""
    written = []
    for name, split in prepared.splits.items():
        path = out_dir / f"{name}.jsonl"
        write_jsonl(path, split.to_list())
        written.append(path)
    write_json(out_dir / "data_card.json", prepared.card)
    return written + [out_dir / "data_card.json"]

