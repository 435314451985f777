"""Preference data for the `dpo` and `kto` stages, from a user's file or from `clintune pairs`, checked at the door.

A file (JSONL, JSON, Parquet or CSV) -> its rows in one of the formats below (decided by the first row, then held for
every row) -> each row checked (one line naming the file, the row and what to fix) -> the prompt rendered as the
model will see it at inference -> the identifier scan over every text, as for training data.

DPO rows: `prompt`, `chosen`, `rejected`. KTO rows: `prompt`, `completion`, `label` (true = a good answer). Each comes
in three shapes:
- clintune's: `note` and `question` instead of `prompt`; the prompt is the recipe's template, as in SFT;
- TRL's standard: `prompt` is text, used as it stands (the exact text before the answer; `clintune pairs` writes the
  rendered prompt there);
- TRL's conversational: `prompt` is a list of messages and each answer a list holding one assistant message; or,
  with no `prompt`, `chosen` and `rejected` are whole conversations that share everything before the last message.
  The prompt is rendered with the model's chat template.
"""

from __future__ import annotations

import csv
import difflib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from clintune.data.phi import scan_rows, summarize_findings
from clintune.errors import ClintuneError

ANSWERS = {"dpo": ("chosen", "rejected"), "kto": ("completion",)}
KEPT = ("made_by", "task")  # carried with the row: how it was made, for the data card
IGNORABLE = ("id", "source", "score_chosen", "score_rejected", "note", "question")  # read, never trained on
READERS = (".jsonl", ".ndjson", ".json", ".parquet", ".csv")


@dataclass
class Renderers:
    """How a prompt becomes text: from a note and a question (the recipe's template), from chat messages (the
    tokenizer's chat template)."""

    note_question: Callable[[str, str], str]
    messages: Callable[[list[dict]], str]


@dataclass
class PreferenceData:
    rows: list[dict]  # dpo: prompt, chosen, rejected; kto: prompt, completion, label; each with made_by if given
    source: str
    shape: str  # clintune, standard or conversational
    scan: dict = field(default_factory=dict)

    def card(self) -> dict:
        how = sorted({_how(r["made_by"]) for r in self.rows if isinstance(r.get("made_by"), dict)})
        return {"source": self.source, "rows": len(self.rows), "shape": self.shape, "made_by": how or ["unrecorded"],
                "identifier_scan": self.scan}


def _how(made_by: dict) -> str:
    """'gold', or 'judge (MODEL)': how a row was made, for the data card."""
    method = str(made_by.get("method", "unrecorded"))
    return f"{method} ({made_by['judge_model']})" if made_by.get("judge_model") else method


def load_preference_file(path: str | Path, stage: str, render: Renderers, allow_phi: str | None = None
                         ) -> PreferenceData:
    """The rows of a preference file for `stage` ('dpo' or 'kto'), checked, rendered and scanned."""
    path = Path(path)
    raw = read_rows(path)
    if not raw:
        raise ClintuneError("the preference file holds no rows", where=str(path), fix="give it at least one row")
    shape = row_shape(raw[0][1], stage, f"{path}:{raw[0][0]}")
    rows = [to_row(row, stage, shape, render, f"{path}:{number}") for number, row in raw]
    return scanned(PreferenceData(rows, str(path), shape), allow_phi)


def scanned(data: PreferenceData, allow_phi: str | None) -> PreferenceData:
    """The identifier scan over every text of the rows; refused unless `allow_phi` gives a reason."""
    columns = ["prompt", *ANSWERS["dpo" if "chosen" in data.rows[0] else "kto"]]
    findings = list(scan_rows(data.rows, columns))
    data.scan = {**summarize_findings(findings), "allowed_with_reason": allow_phi}
    if findings and not allow_phi:
        classes = ", ".join(f"{cls} {n}" for cls, n in data.scan["by_class"].items())
        raise ClintuneError(f"{data.scan['rows_with_findings']} preference rows contain patient identifiers "
                            f"({classes})", where=data.source,
                            fix="remove them from the file, or pass --allow-phi \"reason\"")
    return data


def read_rows(path: Path) -> list[tuple[int, dict]]:
    """(row number as a user finds it: the line for JSONL and CSV, from 1; the index for JSON and Parquet, row)."""
    if not path.is_file():
        raise ClintuneError("the preference file does not exist", where=str(path),
                            fix="give a JSONL, JSON, Parquet or CSV file, e.g. one `clintune pairs` wrote")
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise ClintuneError(f"preference files are {', '.join(READERS)}; this is '{suffix or 'no suffix'}'",
                            where=str(path), fix="convert it to JSONL")
    try:
        if suffix == ".parquet":
            return list(enumerate(pq.read_table(path).to_pylist(), 1))
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ClintuneError(f"cannot read it ({type(exc).__name__})", where=str(path),
                            fix="give a readable UTF-8 file") from None
    if suffix == ".csv":
        return [(number, dict(row)) for number, row in enumerate(csv.DictReader(text.splitlines()), 2)]
    if suffix == ".json":
        loaded = _json(text, str(path))
        if not isinstance(loaded, list):
            raise ClintuneError("a JSON preference file must be a list of rows", where=str(path),
                                fix="write [{...}, {...}] or one row per line as JSONL")
        return list(enumerate(loaded, 1))
    return [(number, _json(line, f"{path}:{number}")) for number, line in enumerate(text.splitlines(), 1)
            if line.strip()]


def _json(text: str, where: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ClintuneError(f"invalid JSON ({exc.msg})", where=where, fix="fix that line") from None


def row_shape(row, stage: str, where: str) -> str:
    if not isinstance(row, dict):
        raise ClintuneError("a row must be an object", where=where, fix="write rows as {\"prompt\": ..., ...}")
    answers = ANSWERS[stage]
    other = ANSWERS["kto" if stage == "dpo" else "dpo"]
    if not any(key in row for key in answers) and all(key in row for key in other):
        raise ClintuneError(f"stage {stage} needs {', '.join(answers)}; these rows hold {', '.join(other)} (rows for "
                            f"{'kto' if stage == 'dpo' else 'dpo'})", where=where,
                            fix=f"use stages [sft, {'kto' if stage == 'dpo' else 'dpo'}], or give a {stage} file")
    if "note" in row and "question" in row and "prompt" not in row:
        return "clintune"
    if isinstance(row.get("prompt"), list) or (stage == "dpo" and "prompt" not in row
                                               and isinstance(row.get("chosen"), list)):
        return "conversational"
    if "prompt" in row:
        return "standard"
    raise ClintuneError(f"stage {stage} needs rows with prompt (or note and question) and {', '.join(answers)}"
                        f"{' and label' if stage == 'kto' else ''}", where=where,
                        fix="see docs/train.md, 'Preference data'")


def to_row(row, stage: str, shape: str, render: Renderers, where: str) -> dict:
    """One checked row in the trainer's shape: the rendered prompt and the answer texts (and the label)."""
    if not isinstance(row, dict):
        raise ClintuneError("a row must be an object", where=where, fix="write every row as the first one")
    _no_unknown_keys(row, stage, where)
    if shape == "clintune":
        prompt = render.note_question(_text(row, "note", where), _text(row, "question", where))
        answers = {key: _text(row, key, where) for key in ANSWERS[stage]}
    elif shape == "standard":
        prompt = _text(row, "prompt", where)
        answers = {key: _text(row, key, where) for key in ANSWERS[stage]}
    else:
        prompt, answers = _conversation(row, stage, render, where)
    out = {"prompt": prompt, **answers}
    if stage == "dpo" and answers["chosen"].strip() == answers["rejected"].strip():
        raise ClintuneError("chosen and rejected are the same answer, so the pair teaches nothing", where=where,
                            fix="drop the row")
    if stage == "kto":
        out["label"] = _label(row.get("label"), where)
    out.update({key: row[key] for key in KEPT if key in row})
    return out


def _no_unknown_keys(row: dict, stage: str, where: str) -> None:
    known = ("prompt", *ANSWERS[stage], *(("label",) if stage == "kto" else ()), *KEPT, *IGNORABLE)
    for key in row:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            raise ClintuneError(f"unknown field '{key}'" + (f" (did you mean '{close[0]}'?)" if close else ""),
                                where=where, fix=f"a {stage} row holds {', '.join(known[:len(ANSWERS[stage]) + 1])}"
                                f"{', label' if stage == 'kto' else ''} (and optionally {', '.join(KEPT)})")


def _text(row: dict, key: str, where: str) -> str:
    value = row.get(key)
    if not isinstance(value, str):
        raise ClintuneError(f"field '{key}' must be text" + (" and is missing" if value is None else ""), where=where,
                            fix=f"give every row a '{key}'")
    if not value.strip():
        raise ClintuneError(f"field '{key}' is empty", where=where, fix="fill it in or drop the row")
    return value


def _label(value, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ClintuneError("field 'label' must be true (a good answer) or false (a bad one)", where=where,
                        fix="write label: true or label: false")


def _conversation(row: dict, stage: str, render: Renderers, where: str) -> tuple[str, dict]:
    answers = {}
    prompt = _messages(row["prompt"], "prompt", where) if "prompt" in row else None
    for key in ANSWERS[stage]:
        messages = _messages(row.get(key), key, where)
        if messages[-1]["role"] != "assistant":
            raise ClintuneError(f"the last message of '{key}' must be the assistant's answer", where=where,
                                fix="end it with {\"role\": \"assistant\", \"content\": ...}")
        if "prompt" not in row:  # implicit prompt: everything before the answer, the same on both sides
            if not messages[:-1] or (prompt is not None and messages[:-1] != prompt):
                raise ClintuneError("chosen and rejected must share every message before the answer", where=where,
                                    fix="give the conversation up to the answer as 'prompt'")
            prompt = messages[:-1]
        elif len(messages) != 1:
            raise ClintuneError(f"with a 'prompt' list, '{key}' must hold the answer alone", where=where,
                                fix=f"write \"{key}\": [{{\"role\": \"assistant\", \"content\": ...}}]")
        answers[key] = messages[-1]["content"]
    if prompt[-1]["role"] != "user":
        raise ClintuneError("the prompt must end with the user's message", where=where,
                            fix="the answer follows the user's last message")
    return render.messages(prompt), answers


def _messages(value, key: str, where: str) -> list[dict]:
    if not isinstance(value, list) or not value:
        raise ClintuneError(f"field '{key}' must be a list of messages", where=where,
                            fix="write [{\"role\": \"user\", \"content\": ...}, ...]")
    for message in value:
        if not isinstance(message, dict) or message.get("role") not in ("system", "user", "assistant") \
                or not isinstance(message.get("content"), str) or not message["content"].strip():
            raise ClintuneError(f"a message in '{key}' needs a role (system, user or assistant) and text content",
                                where=where, fix="write {\"role\": \"user\", \"content\": \"...\"}")
    return [{"role": m["role"], "content": m["content"]} for m in value]
