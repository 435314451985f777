"""Load and validate an Asclepius-sized file: clintune vs `datasets.load_dataset("csv")`.

The file: 158,114 generated rows (the public dataset's row count). Our notes average ~1.2 kB and Asclepius rows
~2.5 kB, so by default each note gets a second generated note appended under "Addendum:", which brings the CSV to
about the public file's ~400 MB. Each variant runs in its own process, so its peak RSS is its own.
  ours:     clintune.data.load_data + validate (every check of `clintune data validate`)
  baseline: datasets.load_dataset("csv", data_files=...) alone, no checks, fresh cache
Goal (issue 3): ours at most 60 s and at most 2 GB peak RSS on the 2-core CI machine.

Usage: python benchmarks/data_load.py [--rows 158114] [--no-addendum] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write_file(path: Path, rows: int, addendum: bool) -> None:
    from clintune.data.generate import iter_rows
    from clintune.data.save import save_rows

    generated = list(iter_rows(rows, seed=2024))
    if addendum:
        extra = list(iter_rows(rows, seed=2025, notes_only=True))
        for row, more in zip(generated, extra, strict=True):
            row["note"] += "\n\nAddendum:\n" + more["note"].split("\n", 1)[1]
    save_rows(generated, path)


def peak_rss_gib() -> float:
    """VmHWM: this process's own peak. (ru_maxrss would carry the parent's peak across fork and exec.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20
    raise RuntimeError("no VmHWM in /proc/self/status")


def run_variant(variant: str, path: str) -> dict:
    started = time.perf_counter()
    if variant == "ours":
        from clintune.data.load import load_data
        from clintune.data.validate import validate

        report = validate(load_data(path))
        rows, ok = report.rows, report.ok
    else:
        import os

        os.environ["HF_DATASETS_CACHE"] = tempfile.mkdtemp()
        from datasets import load_dataset

        rows, ok = len(load_dataset("csv", data_files=path, split="train")), None
    seconds = time.perf_counter() - started
    return {"variant": variant, "rows": rows, "ok": ok, "seconds": seconds,
            "peak_rss_gib": peak_rss_gib()}


def main() -> None:
    from clintune.privacy import disable_telemetry

    disable_telemetry()  # before any HF library loads: they read their switches at import time
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=158_114)
    parser.add_argument("--no-addendum", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.path)))
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "synthetic.csv"
        started = time.perf_counter()
        write_file(path, args.rows, not args.no_addendum)
        generation = time.perf_counter() - started
        results = {}
        for variant in ("ours", "baseline"):
            done = subprocess.run([sys.executable, __file__, "--variant", variant, "--path", str(path)],
                                  capture_output=True, text=True, check=True)
            results[variant] = json.loads(done.stdout.strip().splitlines()[-1])
        size_mb = path.stat().st_size / 1e6
    ours, base = results["ours"], results["baseline"]
    summary = {
        "rows": args.rows, "file_mb": size_mb, "generation_seconds": generation, "results": results,
        "time_ratio_ours_over_baseline": ours["seconds"] / base["seconds"],
        "rss_ratio_ours_over_baseline": ours["peak_rss_gib"] / base["peak_rss_gib"],
        "meets_goal": ours["seconds"] <= 60 and ours["peak_rss_gib"] <= 2 / 1.073741824,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{args.rows:,} rows, {size_mb:.0f} MB CSV (generated and written in {generation:.0f} s: "
          f"{args.rows / generation:,.0f} rows/s)")
    for name, r in results.items():
        extra = f", validation {'passed' if r['ok'] else 'FAILED'}" if r["ok"] is not None else ""
        print(f"  {name:8s} {r['seconds']:6.1f} s, peak RSS {r['peak_rss_gib']:.2f} GiB{extra}")
    print(f"ours / baseline: time {summary['time_ratio_ours_over_baseline']:.2f}x, "
          f"peak RSS {summary['rss_ratio_ours_over_baseline']:.2f}x")
    print(f"goal (<= 60 s, <= 2 GB): {'met' if summary['meets_goal'] else 'NOT met'}")


if __name__ == "__main__":
    main()
