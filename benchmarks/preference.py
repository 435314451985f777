"""SFT against SFT + DPO on SmolLM2 with the same training budget, every metric per task, grounding included.

Three models from the demo's recipe and data (SmolLM2-135M-Instruct, LoRA), all answering the same held-out questions
with the same greedy decoding:
- SFT: the demo's SFT stage as it stands (the `stages/sft` adapter of the second run below, the same weights the
  demo trains);
- SFT + DPO: `stages: [sft, dpo]`: after SFT, pairs made from the SFT model's own answers (the gold answer against a
  sampled answer the note does not support or that is wrong; `clintune pairs`'s offline way), then DPO;
- SFT, same budget: SFT alone, trained for as many optimizer steps as SFT + DPO took together (so any gain of DPO is
  not just more steps).
With --real-notes, the three also answer the real-notes benchmark's questions (benchmarks/real_notes.py, MTSamples
notes read from ../shared/data at run time).

Usage: python benchmarks/preference.py [--out DIR] [--questions 32] [--samples 4] [--real-notes] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLUMNS = (("ROUGE-L", "rouge_l", 3), ("chrF", "chrf", 1), ("F1", "token_f1", 3), ("ungrounded", "ungrounded_share", 3),
           ("spans/ans", "unsupported_per_answer", 2))


def main() -> None:
    from clintune.privacy import disable_telemetry

    disable_telemetry()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "clintune-preference-bench")
    parser.add_argument("--questions", type=int, default=32, help="training questions to make DPO pairs from")
    parser.add_argument("--samples", type=int, default=4, help="answers sampled per question")
    parser.add_argument("--real-notes", action="store_true", help="also answer the real-notes benchmark")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from clintune import api

    clock, seconds = time.perf_counter(), {}
    dpo_run = args.out / "sft-dpo"
    if not (dpo_run / "train_summary.json").is_file():
        api.train("demo", ["stages=[sft,dpo]", f"preference.questions={args.questions}",
                           f"preference.samples={args.samples}"], out=dpo_run, say=_say)
    seconds["sft+dpo training"] = time.perf_counter() - clock
    steps = json.loads((dpo_run / "train_summary.json").read_text())["steps"]
    budget = steps["sft"] + steps["dpo"]
    clock = time.perf_counter()
    more_run = args.out / "sft-same-budget"
    if not (more_run / "train_summary.json").is_file():
        api.train("demo", [f"train.max_steps={budget}"], out=more_run, say=_say)
    seconds["sft same-budget training"] = time.perf_counter() - clock

    config = api.load_config(dpo_run / "config.yaml")
    models = {"SFT": {"model": config.model.name, "adapter": str(dpo_run / "stages" / "sft"),
                      "template": config.prompt.template, "chat": config.prompt.chat},
              "SFT+DPO": {"run": dpo_run}, f"SFT {budget} steps": {"run": more_run}}
    data_sets = {"demo held-out": dpo_run / "data"}
    if args.real_notes:
        sys.path.insert(0, str(HERE))
        from real_notes import DEFAULT_NOTES, QUESTIONS, benchmark_rows

        real = args.out / "real-notes.jsonl"  # the notes stay outside the project, in --out
        real.write_text("".join(json.dumps(r) + "\n" for r in benchmark_rows(DEFAULT_NOTES, QUESTIONS)))
        data_sets["real notes"] = real
    results = {}
    for data_name, data in data_sets.items():
        clock = time.perf_counter()
        for name, which in models.items():
            decoding = api.Decoding(max_new_tokens=config.generation.max_new_tokens)
            out = args.out / "eval" / f"{data_name}-{name}".replace(" ", "-")
            results[(data_name, name)] = api.evaluate(**which, data=data, decoding=decoding, out=out,
                                                      batch_size=config.generation.batch_size)
        seconds[f"evaluation on {data_name}"] = time.perf_counter() - clock
    dpo_log = [json.loads(line) for line in (dpo_run / "metrics.jsonl").read_text().splitlines()]
    dpo_last = [r for r in dpo_log if r.get("stage") == "dpo" and "rewards/accuracies" in r][-1]
    pairs = len((dpo_run / "data" / "pairs.jsonl").read_text().splitlines())
    if args.json:
        print(json.dumps({"steps": steps, "pairs": pairs, "dpo_last": dpo_last, "seconds": seconds,
                          "results": {f"{d} | {m}": r for (d, m), r in results.items()}}, default=str))
        return
    print(f"SFT {steps['sft']} steps; DPO {steps['dpo']} steps on {pairs} pairs (last logged: reward accuracy "
          f"{dpo_last['rewards/accuracies']:.2f}, margin {dpo_last['rewards/margins']:.3f}); same-budget SFT "
          f"{budget} steps")
    for data_name in data_sets:
        print_table(data_name, {m: results[(data_name, m)] for m in models})
    print("; ".join(f"{k} {v:.0f} s" for k, v in seconds.items()) + f"; runs and predictions in {args.out}")


def _say(line: str) -> None:
    print(line, file=sys.stderr)


def print_table(data_name: str, by_model: dict[str, dict]) -> None:
    first = next(iter(by_model.values()))
    print(f"\n{data_name}: {first['n']} questions; each cell {' / '.join(by_model)}")
    print(f"{'task':34} {'n':>3}  " + "  ".join(f"{name:>22}" for name, _, _ in COLUMNS))
    for scope in ["overall", *first["tuned"]["per_task"]]:
        blocks = [m["tuned"]["overall"] if scope == "overall" else m["tuned"]["per_task"][scope]
                  for m in by_model.values()]
        cells = [" / ".join(f"{b[key]:.{digits}f}" if b.get(key) is not None else "-" for b in blocks)
                 for _, key, digits in COLUMNS]
        print(f"{scope:34} {blocks[0]['n']:>3}  " + "  ".join(f"{cell:>22}" for cell in cells))


if __name__ == "__main__":
    main()
