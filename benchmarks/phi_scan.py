"""Recall and precision of `clintune data scan-phi` on identifiers planted into generated notes, per class.

Half of the notes get 1-4 invented identifiers in one of ~55 formats (data/plant.py); the other half stay clean, so
false positives on ordinary clinical text (blood pressures, doses, lab values, hospital days) count against
precision. A finding is a true positive when it overlaps a planted identifier of the same class in the same cell.
The formats come from our own generator, so these figures are an upper bound for real notes; the test suite adds
hand-written cases. Goal (issue 3): recall >= 95%, precision >= 90%.

Usage: python benchmarks/phi_scan.py [--rows 4000] [--seed 11] [--json]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter, defaultdict


def main() -> None:
    from clintune.privacy import disable_telemetry

    disable_telemetry()  # before any HF library loads: they read their switches at import time
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    summary = planted_scores(args.rows, args.seed)
    per_class, recall, precision = summary["per_class"], summary["recall"], summary["precision"]
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{summary['rows']:,} notes, {summary['planted']:,} planted identifiers, {summary['findings']:,} findings "
          f"({summary['rows_per_second']:,.0f} rows/s)")
    print(f"{'class':12s} {'planted':>8s} {'recall':>8s} {'found':>7s} {'precision':>10s}")
    for cls, c in per_class.items():
        r = f"{c['recall']:.1%}" if c["recall"] is not None else "-"
        p = f"{c['precision']:.1%}" if c["precision"] is not None else "-"
        print(f"{cls:12s} {c['planted']:8d} {r:>8s} {c['found']:7d} {p:>10s}")
    print(f"overall recall {recall:.1%}, precision {precision:.1%}; goal (>= 95%, >= 90%): "
          f"{'met' if summary['meets_goal'] else 'NOT met'}")


def planted_scores(rows_wanted: int = 4000, seed: int = 11) -> dict:
    """Recall and precision per class on identifiers planted into half of `rows_wanted` generated rows."""
    from clintune.data.generate import generate_rows
    from clintune.data.phi import CLASSES, scan_rows
    from clintune.data.plant import plant_identifiers

    rows, truth = plant_identifiers(generate_rows(rows_wanted, seed=seed), rate=0.5, seed=seed)
    started = time.perf_counter()
    findings = list(scan_rows(rows, ["note", "question", "answer"]))
    seconds = time.perf_counter() - started

    truth_by_cell, found_by_cell = defaultdict(list), defaultdict(list)
    for t in truth:
        truth_by_cell[(t["row"], t["column"])].append(t)
    for f in findings:
        found_by_cell[(f.row, f.column)].append(f)

    def same(f, t) -> bool:
        return f.cls == t["class"] and f.start < t["end"] and t["start"] < f.end

    planted, recalled = Counter(t["class"] for t in truth), Counter()
    for t in truth:
        recalled[t["class"]] += any(same(f, t) for f in found_by_cell[(t["row"], t["column"])])
    reported, correct = Counter(f.cls for f in findings), Counter()
    for f in findings:
        correct[f.cls] += any(same(f, t) for t in truth_by_cell[(f.row, f.column)])

    per_class = {cls: {"planted": planted[cls], "recall": recalled[cls] / planted[cls] if planted[cls] else None,
                       "found": reported[cls], "precision": correct[cls] / reported[cls] if reported[cls] else None}
                 for cls in CLASSES}
    recall = sum(recalled.values()) / len(truth)
    precision = sum(correct.values()) / max(1, len(findings))
    return {"rows": len(rows), "planted": len(truth), "findings": len(findings), "recall": recall,
            "precision": precision, "rows_per_second": len(rows) / seconds, "per_class": per_class,
            "meets_goal": recall >= 0.95 and precision >= 0.90}


if __name__ == "__main__":
    main()
