"""`clintune synth`: the Asclepius synthesis against any OpenAI-compatible teacher, without ever losing work.

For each case report, in source order: (1) the teacher rewrites it as a discharge summary; (2) the note gets one of
the 8 tasks, uniformly at random (seeded per item), and a question bootstrapped from 3 seed questions plus up to 2 of
the questions already generated for that task; (3) the teacher answers from the note, saying so when it cannot;
(4) the Asclepius filters drop rows that talk about a model or answer with a question.

Never losing work: each finished row is appended to the output at once (one JSON line, flushed and synced). A rerun
reads what is there (a torn last line from a kill is cut off), skips finished and filtered items, and continues until
the output holds exactly N rows: no duplicates, no gaps. Failed teacher calls are retried with backoff by the client;
an item that still fails, or is filtered, goes to FILE.errors.jsonl with the reason.
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from clintune.data.schema import TASKS
from clintune.errors import ClintuneError
from clintune.openai_client import ChatClient, TeacherError
from clintune.synth.teacher_prompts import (
    SEED_QUESTIONS,
    answer_messages,
    note_messages,
    question_messages,
    rejected,
)


@dataclass
class SynthSettings:
    n: int
    concurrency: int = 4
    seed: int = 0
    temperature: float = 1.0
    max_tokens: int = 1024


@dataclass
class SynthResult:
    rows: int  # rows in the output now
    written: int  # rows this run added
    filtered: int
    failed: int
    tokens: int


_UNPRINTABLE = re.compile("[\ufffd\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_reply(text: str) -> str:
    """The reply without undecodable bytes (U+FFFD) and control characters, which are never content and which
    `clintune data validate` rejects; an item whose reply is then empty is filtered."""
    return _UNPRINTABLE.sub("", text).strip()


def read_rows(path: Path) -> list[dict]:
    """The rows of a JSONL output, after cutting off a torn last line (a write the process did not finish)."""
    if not path.exists():
        return []
    raw = path.read_bytes()
    whole = raw[:raw.rfind(b"\n") + 1]
    if len(whole) != len(raw):
        with path.open("r+b") as handle:
            handle.truncate(len(whole))
    return [json.loads(line) for line in whole.decode("utf-8").splitlines() if line.strip()]


class _Appender:
    """Appends JSON lines durably, one whole line per write, from several threads."""

    def __init__(self, path: Path):
        self.handle = path.open("a", encoding="utf-8")
        self.lock = threading.Lock()

    def append(self, row: dict) -> None:
        with self.lock:
            self.handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            self.handle.flush()
            os.fsync(self.handle.fileno())

    def close(self) -> None:
        self.handle.close()


class Synthesizer:
    def __init__(self, client: ChatClient, out: Path, settings: SynthSettings):
        if out.suffix != ".jsonl":
            raise ClintuneError(f"--out {out} is not a .jsonl file", fix="name the output FILE.jsonl")
        self.client, self.out, self.settings = client, out, settings
        self.errors_path = out.with_name(out.stem + ".errors.jsonl")
        existing = read_rows(out)
        self.done = {row["patient_id"] for row in existing}
        self.filtered = {row["patient_id"] for row in read_rows(self.errors_path) if row.get("kind") == "filtered"}
        self.pools = {task: [r["question"] for r in existing if r.get("task") == task] for task in TASKS}
        self.pool_lock = threading.Lock()
        self.accepted = len(existing)

    def item(self, patient_id, case_report: str) -> tuple[str, dict]:
        """('row', row) | ('filtered', reason) | ('failed', reason) for one case report."""
        rng = random.Random(f"{self.settings.seed}:{patient_id}")
        task = rng.choice(TASKS)
        try:
            note = self._ask(note_messages(case_report))
            with self.pool_lock:
                pool = list(self.pools[task])
            examples = rng.sample(SEED_QUESTIONS[task], 3) + rng.sample(pool, min(2, len(pool)))
            question = self._ask(question_messages(note, task, examples))
            answer = self._ask(answer_messages(note, question))
        except TeacherError as exc:
            return "failed", {"patient_id": patient_id, "kind": "failed", "error": str(exc)}
        row = {"patient_id": patient_id, "note": note, "question": question, "answer": answer, "task": task}
        reason = rejected(row)
        if reason:
            return "filtered", {"patient_id": patient_id, "kind": "filtered", "error": reason}
        return "row", row

    def _ask(self, messages: list[dict]) -> str:
        return clean_reply(self.client.chat(messages, self.settings.temperature, self.settings.max_tokens).text)

    def run(self, sources: list[tuple[object, str]], on_row=lambda: None) -> SynthResult:
        """`sources`: (patient_id, case report) in order; stops when the output holds N rows or sources run out."""
        queue = [(pid, text) for pid, text in sources if pid not in self.done and pid not in self.filtered]
        rows_out, errors_out = _Appender(self.out), _Appender(self.errors_path)
        written = filtered = failed = 0
        pending = set()
        try:
            with ThreadPoolExecutor(self.settings.concurrency, thread_name_prefix="clintune-synth") as pool:
                while queue or pending:
                    while queue and self.accepted + len(pending) < self.settings.n \
                            and len(pending) < self.settings.concurrency:
                        pending.add(pool.submit(self.item, *queue.pop(0)))
                    if not pending:
                        break
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        kind, value = future.result()
                        if kind == "row" and self.accepted < self.settings.n:
                            rows_out.append(value)
                            with self.pool_lock:
                                self.pools[value["task"]].append(value["question"])
                            self.accepted += 1
                            written += 1
                            on_row()
                        elif kind != "row":
                            errors_out.append(value)
                            filtered += kind == "filtered"
                            failed += kind == "failed"
        finally:
            rows_out.close()
            errors_out.close()
        return SynthResult(self.accepted, written, filtered, failed, self.client.tokens_used)


def load_case_reports(source: str, text_column: str | None) -> list[tuple[object, str]]:
    """(patient_id, text) per case report: CSV, JSONL, Parquet or text files; the source's patient_id when it has
    unique ones, else the row number."""
    from clintune.data.load import load_data

    columns = {"note": text_column} if text_column else None
    dataset = load_data(source, columns, notes_only=True).dataset
    texts = [t or "" for t in dataset["note"]]
    ids = dataset["patient_id"] if "patient_id" in dataset.column_names else [None] * len(texts)
    if None in ids or len(set(ids)) != len(ids):
        ids = list(range(len(texts)))
    return [(pid, text) for pid, text in zip(ids, texts, strict=True) if text.strip()]
