"""The run report: base-vs-tuned table rows, a loss curve, and report.md / report.html in the run directory."""

from __future__ import annotations

import html
from pathlib import Path

from clintune.runs import write_text


def comparison_rows(metrics: dict) -> list[tuple[str, int, float, float, float, float]]:
    """(scope, n, base ROUGE-L, tuned ROUGE-L, base token F1, tuned token F1), overall first."""
    base, tuned = metrics["base"], metrics["tuned"]
    rows = [("overall", base["overall"]["n"], base["overall"]["rouge_l"], tuned["overall"]["rouge_l"],
             base["overall"]["token_f1"], tuned["overall"]["token_f1"])]
    for task, scores in base["per_task"].items():
        t = tuned["per_task"][task]
        rows.append((task, scores["n"], scores["rouge_l"], t["rouge_l"], scores["token_f1"], t["token_f1"]))
    return rows


def _verdict(metrics: dict) -> str:
    gain = metrics["gain_rouge_l_points"]
    target = metrics["target_gain_points"]
    if gain >= target:
        return f"The tuned model is {gain:.1f} ROUGE-L points better than the base (target: {target:.0f})."
    return f"SHORTFALL: the tuned model is only {gain:.1f} ROUGE-L points better than the base (target: {target:.0f})."


def write_reports(run_dir: Path, metrics: dict, examples: list[dict]) -> None:
    rows = comparison_rows(metrics)
    train = metrics["train"]
    lines = [
        f"# clintune run: {run_dir.name}",
        "",
        f"Model `{metrics['model']}`, LoRA, {train['steps']} steps in {train['seconds']:.0f} s; "
        f"peak memory {metrics['peak_rss_gib']:.2f} GiB; total {metrics['seconds_total']:.0f} s.",
        "",
        _verdict(metrics),
        "",
        "| task | n | ROUGE-L base | ROUGE-L tuned | token F1 base | token F1 tuned |",
        "|---|---|---|---|---|---|",
        *[f"| {r[0]} | {r[1]} | {r[2]:.3f} | {r[3]:.3f} | {r[4]:.3f} | {r[5]:.3f} |" for r in rows],
        "",
        "![loss](loss.png)",
        "",
        "## Examples (held-out)",
        "",
    ]
    for ex in examples[:8]:
        lines += [f"**{ex['task']}**: {ex['question']}", "", f"- gold: {ex['answer']}",
                  f"- base: {ex['base']}", f"- tuned: {ex['tuned']}", ""]
    write_text(run_dir / "report.md", "\n".join(lines))

    cells = "".join(
        f"<tr><td>{html.escape(r[0])}</td><td>{r[1]}</td><td>{r[2]:.3f}</td><td>{r[3]:.3f}</td>"
        f"<td>{r[4]:.3f}</td><td>{r[5]:.3f}</td></tr>"
        for r in rows
    )
    samples = "".join(
        f"<h3>{html.escape(ex['task'])}</h3><p>{html.escape(ex['question'])}</p><ul>"
        f"<li><b>gold</b>: {html.escape(ex['answer'])}</li><li><b>base</b>: {html.escape(ex['base'])}</li>"
        f"<li><b>tuned</b>: {html.escape(ex['tuned'])}</li></ul>"
        for ex in examples[:8]
    )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>clintune run</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{padding:.2em .6em;"
        "border-bottom:1px solid #ddd}</style></head><body>"
        f"<h1>clintune run: {html.escape(run_dir.name)}</h1><p>{html.escape(_verdict(metrics))}</p>"
        "<table><tr><th>task</th><th>n</th><th>ROUGE-L base</th><th>ROUGE-L tuned</th>"
        f"<th>token F1 base</th><th>token F1 tuned</th></tr>{cells}</table>"
        f"<img src='loss.png' alt='training loss'><h2>Examples (held-out)</h2>{samples}</body></html>"
    )
    write_text(run_dir / "report.html", page)
