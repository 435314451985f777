"""Real notes: does a run's tuned model beat its base on clinical text no one here wrote, and what does it make up?

The questions and gold answers are ours (benchmarks/real_notes/questions.jsonl: 80 questions over the 8 Asclepius
tasks, 12 of them unanswerable, written by hand on 80 MTSamples transcriptions and keyed by the export's row number,
each with a verbatim quote of the note that supports its answer). The notes are not ours: they are read at run time
from the MTSamples export in ../shared/data (never copied into the project), cleaned of the export's artefacts
(clintune.data.clean), and checked against the quotes, so a different copy of the file is refused.

Base and tuned answer the same prompts with the run's template and the same greedy decoding (`clintune eval --run RUN
--compare-base`, through clintune.api); every metric is printed per task, grounding included, with the goals of
issue 17. Predictions (which hold the notes) go to a folder outside the project.

Usage: python benchmarks/real_notes.py RUN [--notes ../shared/data/mtsamples_0-321.csv] [--out DIR]
       [--max-new-tokens N] [--batch-size N] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUESTIONS = HERE / "real_notes" / "questions.jsonl"
DEFAULT_NOTES = HERE.parent.parent / "shared" / "data" / "mtsamples_0-321.csv"


def main() -> None:
    from clintune.privacy import disable_telemetry

    disable_telemetry()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a training run directory (the demo's, or any LoRA run)")
    parser.add_argument("--notes", type=Path, default=DEFAULT_NOTES, help="the MTSamples export (CSV)")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--out", type=Path, default=None, help="default: a folder under the system's temp folder")
    parser.add_argument("--max-new-tokens", type=int, default=None, help="default: the run's generation setting")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the run's generation setting")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from clintune import api
    from clintune.config import load_config
    from clintune.errors import ClintuneError

    try:
        rows = benchmark_rows(args.notes, args.questions)
        config = load_config(args.run / "config.yaml")
    except (ClintuneError, OSError) as exc:
        sys.exit(f"real_notes: {exc}")
    out = args.out or Path(tempfile.gettempdir()) / "clintune-real-notes" / args.run.resolve().name
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="clintune-real-notes-") as folder:
        data = Path(folder) / "questions.jsonl"
        data.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        decoding = api.Decoding(max_new_tokens=args.max_new_tokens or config.generation.max_new_tokens)
        metrics = api.evaluate(run=args.run, data=data, compare_base=True, decoding=decoding, out=out,
                               batch_size=args.batch_size or config.generation.batch_size)
    seconds = time.perf_counter() - started
    goals = check_goals(metrics)
    if args.json:
        print(json.dumps({"metrics": metrics, "goals": goals, "seconds": seconds}))
        return
    print_tables(metrics, goals, seconds, out)


def benchmark_rows(notes_csv: Path, questions: Path) -> list[dict]:
    """Our questions joined to the cleaned notes they were written on; refused if a quote is not in its note."""
    from clintune.data.clean import clean_export_text
    from clintune.errors import ClintuneError

    if not notes_csv.is_file():
        raise ClintuneError("the MTSamples export is not there", where=str(notes_csv),
                            fix="give --notes PATH to mtsamples_0-321.csv")
    notes = {}
    with notes_csv.open(newline="", encoding="utf-8") as handle:
        for record in csv.DictReader(handle):  # the export's last row is cut off: rows without a note are skipped
            if record.get("") and (record.get("transcription") or "").strip():
                notes[int(record[""])] = clean_export_text(record["transcription"])
    rows = []
    for line in questions.read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        note = notes.get(q["row"])
        if note is None or q["evidence"] not in note:
            raise ClintuneError(f"row {q['row']} ({q['sample_name']}) is not the note our question was written on",
                                where=str(notes_csv), fix="use the MTSamples export rows 0-321 from ../shared/data")
        rows.append({"note": note, "question": q["question"], "answer": q["answer"], "task": q["task"]})
    return rows


GOALS = (("ROUGE-L gain >= 15 points overall", lambda m: 100 * m["gain"]["rouge_l"] >= 15),
         ("no task below base (ROUGE-L)", lambda m: all(t["rouge_l"] >= m["base"]["per_task"][task]["rouge_l"]
                                                        for task, t in m["tuned"]["per_task"].items())),
         ("tuned ungrounded share below base", lambda m: m["tuned"]["overall"]["ungrounded_share"]
          < m["base"]["overall"]["ungrounded_share"]),
         ("unanswerable answered as such >= 50%", lambda m: m["tuned"]["overall"]["unanswerable_accuracy"] >= 0.5),
         ("false alarms < 15%", lambda m: m["tuned"]["overall"]["unanswerable_false_alarm"] < 0.15))


def check_goals(metrics: dict) -> dict[str, bool]:
    return {name: bool(test(metrics)) for name, test in GOALS}


def print_tables(metrics: dict, goals: dict[str, bool], seconds: float, out: Path) -> None:
    columns = (("ROUGE-L", "rouge_l", 3), ("chrF", "chrf", 1), ("F1", "token_f1", 3),
               ("ungrounded", "ungrounded_share", 3), ("spans/ans", "unsupported_per_answer", 2))
    header = f"{'task':34} {'n':>3}  " + "  ".join(f"{name:>10} base/tuned" for name, _, _ in columns)
    print(f"real notes: {metrics['n']} questions, {metrics['model']}, template {metrics['template']}")
    print(header)
    for scope in ["overall", *metrics["tuned"]["per_task"]]:
        blocks = [metrics[name]["overall"] if scope == "overall" else metrics[name]["per_task"][scope]
                  for name in ("base", "tuned")]
        cells = []
        for _, key, digits in columns:
            values = [f"{b[key]:.{digits}f}" if b.get(key) is not None else "-" for b in blocks]
            cells.append(f"{values[0]:>10} / {values[1]:<5}")
        print(f"{scope:34} {blocks[1]['n']:>3}  " + "  ".join(cells))
    for name in ("base", "tuned"):
        o = metrics[name]["overall"]
        print(f"{name}: unanswerable answered as such {o['unanswerable_accuracy']:.2f} "
              f"(n={o['n_unanswerable']}), false alarms {o['unanswerable_false_alarm']:.2f}, "
              f"ungrounded on unanswerable {o['ungrounded_share_unanswerable']:.2f}")
    print(f"tuned - base: ROUGE-L {100 * metrics['gain']['rouge_l']:+.1f} points, chrF "
          f"{metrics['gain']['chrf']:+.1f}, ungrounded share {metrics['gain']['ungrounded_share']:+.3f}")
    for name, met in goals.items():
        print(f"goal {name}: {'met' if met else 'NOT met'}")
    print(f"{seconds:.0f} s; predictions in {out}")


if __name__ == "__main__":
    main()
