"""What is in a dataset: rows, patients, the task mix, and length distributions in characters and tokens."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from clintune.data.load import LoadedData
from clintune.runs import write_figure

PERCENTILES = (0, 10, 50, 90, 100)


def _describe(lengths: list[int]) -> dict:
    if not lengths:
        return {}
    values = np.asarray(lengths)
    low, p10, median, p90, high = np.percentile(values, PERCENTILES)
    return {"min": int(low), "p10": float(p10), "median": float(median), "p90": float(p90), "max": int(high),
            "mean": float(values.mean())}


def data_stats(loaded: LoadedData, tokenizer=None, example_length: Callable[[dict], int] | None = None
               ) -> tuple[dict, dict[str, dict[str, list[int]]]]:
    """The summary (JSON-ready) and the raw lengths behind it, {"characters"|"tokens": {column: [...]}}."""
    dataset = loaded.dataset
    columns = [c for c in ("note", "question", "answer") if c in dataset.column_names]
    lengths: dict[str, dict[str, list[int]]] = {"characters": {c: [] for c in columns}}
    if tokenizer is not None:
        lengths["tokens"] = {c: [] for c in columns}
        if example_length is not None:
            lengths["tokens"]["example"] = []
    for batch in dataset.iter(batch_size=4096):
        for column in columns:
            texts = [t or "" for t in batch[column]]
            lengths["characters"][column] += [len(t) for t in texts]
            if tokenizer is not None:
                lengths["tokens"][column] += [len(ids) for ids in
                                              tokenizer(texts, add_special_tokens=False)["input_ids"]]
        if example_length is not None and tokenizer is not None:
            rows = [dict(zip(batch, values, strict=True)) for values in zip(*batch.values(), strict=True)]
            lengths["tokens"]["example"] += [example_length(row) for row in rows]
    tasks = Counter(dataset["task"]) if "task" in dataset.column_names else Counter()
    summary = {
        "source": loaded.source,
        "rows": len(dataset),
        "patients": len(set(dataset["patient_id"])) if "patient_id" in dataset.column_names else None,
        "notes_only": loaded.notes_only,
        "tasks": {task: {"rows": n, "share": n / len(dataset)} for task, n in tasks.most_common()},
        "lengths": {unit: {c: _describe(v) for c, v in by_column.items()} for unit, by_column in lengths.items()},
    }
    return summary, lengths


def plot_lengths(lengths: dict[str, dict[str, list[int]]], path: Path) -> None:
    """One histogram per column and unit, written as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(unit, column, values) for unit, by_column in lengths.items() for column, values in by_column.items()
              if values]
    fig, axes = plt.subplots(len(lengths), max(len(c) for c in lengths.values()), figsize=(14, 3.2 * len(lengths)),
                             squeeze=False)
    for ax in axes.flat:
        ax.set_visible(False)
    units = list(lengths)
    for unit, column, values in panels:
        ax = axes[units.index(unit)][list(lengths[unit]).index(column)]
        ax.set_visible(True)
        ax.hist(values, bins=40, color="#3b7dd8")
        ax.set_title(f"{column} length ({unit})")
        ax.set_ylabel("rows")
    fig.tight_layout()
    write_figure(path, fig)
    plt.close(fig)
