"""The Asclepius data schema (starmpcc/Asclepius-Synthetic-Clinical-Notes), exactly as published, and the
column mappings that bring other layouts to it."""

from __future__ import annotations

from clintune.errors import ClintuneError

COLUMNS = ("patient_id", "note", "question", "answer", "task")
TEXT_COLUMNS = ("note", "question", "answer", "task")
QA_REQUIRED = ("note", "question", "answer")

# The 8 task labels, verbatim from the dataset.
TASKS = (
    "Named Entity Recognition",
    "Abbreviation Expansion",
    "Relation Extraction",
    "Temporal Information Extraction",
    "Coreference Resolution",
    "Paraphrasing",
    "Summarization",
    "Question Answering",
)
UNSPECIFIED_TASK = "unspecified"

# The dataset card names the note column `patient`; the data itself says `note`.
NOTE_ALIASES = ("patient",)

# The Asclepius filter list: rows whose question or answer talks about a model were dropped from the dataset.
SELF_REFERENCE_PHRASES = (
    "ai language", "language model", "clinical language", "recognition model", "extraction model", "the model",
    "summarization model", "clinical model", "generation model", "ai model", "ner model",
)

# Shorthands for --columns; a mapping reads canonical=source.
PRESETS = {
    "alpaca": {"question": "instruction", "note": "input", "answer": "output"},
    "messages": {"messages": "messages"},
}


def parse_column_mapping(spec: str | dict | None) -> dict[str, str]:
    """'question=instruction,note=input,answer=output' (or a preset name) -> {'question': 'instruction', ...}."""
    if not spec:
        return {}
    if isinstance(spec, dict):
        mapping = dict(spec)
    elif spec in PRESETS:
        mapping = dict(PRESETS[spec])
    else:
        mapping = {}
        for pair in spec.split(","):
            target, sep, source = pair.partition("=")
            if not sep or not target.strip() or not source.strip():
                raise ClintuneError(
                    f"column mapping '{pair}' is not canonical=source",
                    fix="write e.g. --columns question=instruction,note=input,answer=output (or alpaca / messages)",
                )
            mapping[target.strip()] = source.strip()
    allowed = set(COLUMNS) | {"messages"}
    for target in mapping:
        if target not in allowed:
            raise ClintuneError(
                f"column mapping names '{target}', which is not a clintune column",
                fix=f"map onto one of: {', '.join(sorted(allowed))}",
            )
    return mapping
