"""The Asclepius data schema (starmpcc/Asclepius-Synthetic-Clinical-Notes), exactly as published."""

from __future__ import annotations

COLUMNS = ("patient_id", "note", "question", "answer", "task")

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
