"""How well the grounding metric agrees with people: precision and recall of "this answer asserts something its note
does not hold" against hand labels.

benchmarks/real_notes/grounding_labels.jsonl holds 224 answers labelled by hand (grounded or not, with the
unsupported fragments and a reason): the base and the tuned demo model (SmolLM2-135M-Instruct, LoRA, commit 9d41c69)
on our 80 real-note questions (160 answers) and on 32 generated held-out questions (64 answers). A label was given
from reading the note, the question and the answer, without the metric's output. Real notes are read at run time
from ../shared/data (never stored here); generated notes are stored with their labels.

The metric says "ungrounded" when it finds any unsupported span; precision = of the answers it flags, the share
people labelled ungrounded; recall = of the answers people labelled ungrounded, the share it flags.

Usage: python benchmarks/grounding_agreement.py [--notes ../shared/data/mtsamples_0-321.csv] [--show]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
LABELS = HERE / "real_notes" / "grounding_labels.jsonl"


def main() -> None:
    sys.path.insert(0, str(HERE))
    from real_notes import DEFAULT_NOTES, QUESTIONS, benchmark_rows

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=Path, default=DEFAULT_NOTES)
    parser.add_argument("--show", action="store_true", help="print every disagreement")
    args = parser.parse_args()

    from clintune.evaluate.grounding import unsupported_spans

    labels = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines()]
    real = benchmark_rows(args.notes, QUESTIONS) if args.notes.is_file() else None
    if real is None:
        print(f"{args.notes} not found: scoring the generated-note labels only")
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # scope -> [flagged&bad, flagged&fine, missed, n]
    for label in labels:
        if label["source"] == "mtsamples":
            if real is None:
                continue
            note = real[label["question_index"]]["note"]
        else:
            note = label["note"]
        spans = unsupported_spans(label["answer"], note, label["question"])
        flagged, bad = bool(spans), not label["grounded"]
        for scope in ("all", f"{label['source']} notes", f"{label['model']} model"):
            tally = counts[scope]
            tally[0] += flagged and bad
            tally[1] += flagged and not bad
            tally[2] += bad and not flagged
            tally[3] += 1
        if args.show and flagged != bad:
            print(f"{'flagged, labelled grounded' if flagged else 'missed'}: {label['id']}: {label['answer'][:160]!r}"
                  f"\n    metric {[s['text'] for s in spans]}; label {label['unsupported']}")
    print(f"{'scope':18} {'answers':>7} {'ungrounded':>10} {'flagged':>7} {'precision':>9} {'recall':>6}")
    order = ("all", "mtsamples notes", "generated notes", "base model", "tuned model")
    for scope in (s for s in order if s in counts):
        hit, false_alarm, missed, n = counts[scope]
        precision = hit / (hit + false_alarm) if hit + false_alarm else float("nan")
        recall = hit / (hit + missed) if hit + missed else float("nan")
        print(f"{scope:18} {n:>7} {hit + missed:>10} {hit + false_alarm:>7} {precision:>9.2f} {recall:>6.2f}")


if __name__ == "__main__":
    main()
