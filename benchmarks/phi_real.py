"""Recall and precision of the identifier scan on real notes, against our own hand labels, beside the planted benchmark.

The notes are the 305 distinct non-empty MTSamples transcriptions in ../shared/data (read at run time, never copied
into the project), loaded as `clintune data scan-phi FILE --columns note=transcription` loads them. The labels in
benchmarks/phi_real/labels.jsonl are positions only (row, class, start, end: no identifier's text), made by reading
every note; benchmarks/phi_real/notes_read.json names each note read with a hash of its text, so a changed file is
refused instead of misread. What counts (benchmarks/phi_real/README.md): names of people; places below a state and
named facilities; dates more specific than a year, a month alone included; ages over 89; numbers. MTSamples'
placeholders ("Dr. X", "ABCD General Hospital", "Month DD, YYYY") are labelled `placeholder`: they identify no one,
so a finding on one is neither right nor wrong and is counted apart.

A label is found when a finding overlaps it; a finding is right when it overlaps a labelled identifier. The scan
prints no identifier, and neither does this script: misses are listed by row and class only. It also counts the found
identifiers that a masked view would still show in part (none may be).
Goals (issue 18): recall >= 95% for names and places, >= 98% for dates, precision >= 90% overall, >= 100 notes/s
(measured after the gazetteers' one-time load of towns and given names, which is printed apart). Each layer is
scored: the context rules alone, then with the gazetteers (clintune/data/places.py: towns and organisations named
after them; full_names.py: given names).

Usage: python benchmarks/phi_real.py [--notes ../shared/data/mtsamples_0-321.csv] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_NOTES = HERE.parent.parent / "shared" / "data" / "mtsamples_0-321.csv"
LABELS = HERE / "phi_real" / "labels.jsonl"
NOTES_READ = HERE / "phi_real" / "notes_read.json"
# The scan's classes as the labels group them.
LABEL_CLASS = {"name": "name", "address": "place", "place": "place", "zip": "place", "date": "date", "age": "age"}
GOALS = {"name": 0.95, "place": 0.95, "date": 0.98}


def main() -> None:
    from clintune.privacy import disable_telemetry

    disable_telemetry()  # before any HF library loads: they read their switches at import time
    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", type=Path, default=DEFAULT_NOTES, help="the MTSamples export (CSV)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from phi_scan import planted_scores

    from clintune.data.full_names import given_names
    from clintune.data.phi import find_identifiers
    from clintune.data.places import town_names

    notes = read_notes(args.notes)
    labels = [json.loads(line) for line in LABELS.read_text().splitlines() if line.strip()]
    started = time.perf_counter()
    town_names(), given_names()  # once per process, whatever the number of notes
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    findings = {row: find_identifiers(text) for row, text in notes.items()}
    seconds = time.perf_counter() - started
    rules_only = {row: find_identifiers(text, gazetteers=False) for row, text in notes.items()}
    summary = {"notes": len(notes), "notes_per_second": len(notes) / seconds, "gazetteer_load_seconds": load_seconds,
               "layers": {"rules": score(rules_only, labels), "rules + gazetteers": score(findings, labels)},
               "planted": planted_scores()}
    summary["shown_in_part"] = shown_in_part(notes, labels)
    real = summary["layers"]["rules + gazetteers"]
    summary["meets_goal"] = real["meets_goal"] and summary["notes_per_second"] >= 100 and not summary["shown_in_part"]
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{len(notes)} real notes (MTSamples), {sum(r['labelled'] for r in real['recall'].values())} labelled "
          f"identifiers, {real['placeholders']} placeholders; scan at {summary['notes_per_second']:,.0f} notes/s "
          f"(after loading the gazetteers of towns and given names once: {load_seconds:.1f} s)")
    rules = summary["layers"]["rules"]
    print(f"per layer, found of those labelled: context rules alone places {_found(rules, 'place')}, names "
          f"{_found(rules, 'name')}; with the gazetteers (towns, given names) places {_found(real, 'place')}, names "
          f"{_found(real, 'name')}; overall precision {rules['overall_precision']:.1%} then "
          f"{real['overall_precision']:.1%}")
    print(f"{'class':8s} {'labelled':>9s} {'recall':>8s} {'found':>7s} {'precision':>10s}  goal")
    for cls in ("name", "place", "date", "age", "number"):
        r, p = real["recall"].get(cls, {}), real["precision"].get(cls, {})
        recall = f"{r['recall']:.1%}" if r.get("labelled") else "-"
        precision = f"{p['precision']:.1%}" if p.get("found") else "-"
        goal = f"recall >= {GOALS[cls]:.0%}" if cls in GOALS else ""
        print(f"{cls:8s} {r.get('labelled', 0):9d} {recall:>8s} {p.get('found', 0):7d} {precision:>10s}  {goal}")
    print(f"overall precision {real['overall_precision']:.1%} (goal >= 90%); findings on placeholders (not counted): "
          f"{real['on_placeholders']}")
    print("missed (row: class): " + (", ".join(f"{row}: {cls}" for row, cls in real["missed"]) or "none"))
    print(f"found identifiers a masked view shows in part (a letter or digit of the label left unmasked): "
          f"{len(summary['shown_in_part'])}" + "".join(f"; row {row}: {cls}" for row, cls in summary["shown_in_part"]))
    planted = summary["planted"]
    print(f"beside it, planted identifiers in generated notes: recall {planted['recall']:.1%}, precision "
          f"{planted['precision']:.1%} ({planted['planted']:,} planted in {planted['rows']:,} rows)")
    print(f"goals: {'met' if summary['meets_goal'] else 'NOT met'}")


def _found(scores: dict, cls: str) -> str:
    recall = scores["recall"].get(cls, {"labelled": 0, "recall": 0.0})
    return f"{round(recall['recall'] * recall['labelled'])} of {recall['labelled']}"


def read_notes(path: Path) -> dict[int, str]:
    """{file row: note} as the scan loads them; refuses a file whose notes are not the ones labelled."""
    from clintune.data.load import load_data
    from clintune.errors import ClintuneError

    if not path.is_file():
        raise SystemExit(ClintuneError("the MTSamples export is not there", where=str(path),
                                       fix="give --notes PATH to mtsamples_0-321.csv").one_line())
    loaded = load_data(path, "note=transcription")
    notes = {loaded.file_row(i): text for i, text in enumerate(loaded.dataset["note"])}
    expected = {int(row): digest for row, digest in json.loads(NOTES_READ.read_text()).items()}
    actual = {row: hashlib.sha256(text.encode()).hexdigest()[:16] for row, text in notes.items()}
    if actual != expected:
        changed = sorted(set(expected) ^ set(actual) | {r for r in expected if actual.get(r) != expected[r]})
        raise SystemExit(ClintuneError(f"{len(changed)} notes differ from the ones labelled (rows {changed[:10]})",
                                       where=str(path), fix="use the MTSamples export rows 0-321").one_line())
    return notes


def shown_in_part(notes: dict[int, str], labels: list[dict]) -> list[tuple[int, str]]:
    """(row, class) of every labelled identifier that the scan found but whose masked view still shows part of it:
    the leak that printing a masked context must never have."""
    from clintune.data.phi import masks

    shown, hidden_by_row = [], {}
    for label in labels:
        if label["class"] == "placeholder":
            continue
        text = notes[label["row"]]
        if label["row"] not in hidden_by_row:
            hidden_by_row[label["row"]] = {i for _, start, end in masks(text) for i in range(start, end)}
        hidden = hidden_by_row[label["row"]]
        characters = {i for i in range(label["start"], label["end"]) if text[i].isalnum()}
        if characters & hidden and not characters <= hidden:
            shown.append((label["row"], label["class"]))
    return shown


def score(findings: dict[int, list[tuple[str, int, int]]], labels: list[dict]) -> dict:
    """Recall per labelled class and precision per found class; findings on placeholders counted apart."""
    real = [label for label in labels if label["class"] != "placeholder"]
    placeholders = [label for label in labels if label["class"] == "placeholder"]

    def overlaps(row: int, start: int, end: int, pool: list[dict]) -> bool:
        return any(lab["row"] == row and start < lab["end"] and lab["start"] < end for lab in pool)

    labelled, recalled, missed = Counter(), Counter(), []
    for label in real:
        labelled[label["class"]] += 1
        if any(s < label["end"] and label["start"] < e for _, s, e in findings.get(label["row"], [])):
            recalled[label["class"]] += 1
        else:
            missed.append((label["row"], label["class"]))
    found, right, on_placeholders = Counter(), Counter(), 0
    for row, spans in findings.items():
        for cls, start, end in spans:
            group = LABEL_CLASS.get(cls, "number")
            if overlaps(row, start, end, real):
                found[group] += 1
                right[group] += 1
            elif overlaps(row, start, end, placeholders):
                on_placeholders += 1
            else:
                found[group] += 1
    recall = {cls: {"labelled": n, "recall": recalled[cls] / n} for cls, n in labelled.items()}
    precision = {cls: {"found": n, "precision": right[cls] / n} for cls, n in found.items()}
    overall = sum(right.values()) / max(1, sum(found.values()))
    meets = overall >= 0.90 and all(recall.get(cls, {"recall": 1.0})["recall"] >= goal for cls, goal in GOALS.items())
    return {"recall": recall, "precision": precision, "overall_precision": overall, "placeholders":
            len(placeholders), "on_placeholders": on_placeholders, "missed": missed, "meets_goal": meets}


if __name__ == "__main__":
    main()
