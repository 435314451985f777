"""`clintune report RUN_DIR`: one self-contained HTML page (charts embedded) and a Markdown twin, from what the run
directory holds: the data card, the loss curves, the memory plan, metrics per task base vs tuned with 95% intervals,
the judge's score distribution, and the held-out examples the tuning helped and hurt most.

Metrics come from `eval/metrics.json` (`clintune eval --compare-base`) when it exists, else from the demo's
`metrics.json`; a section whose source is missing says how to make it instead of disappearing.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from clintune.errors import ClintuneError
from clintune.runs import write_text

GIB = 2**30


def comparison_rows(metrics: dict) -> list[tuple[str, int, float, float, float, float]]:
    """(scope, n, base ROUGE-L, tuned ROUGE-L, base token F1, tuned token F1), overall first."""
    base, tuned = metrics["base"], metrics["tuned"]
    rows = [("overall", base["overall"]["n"], base["overall"]["rouge_l"], tuned["overall"]["rouge_l"],
             base["overall"]["token_f1"], tuned["overall"]["token_f1"])]
    for task, scores in base["per_task"].items():
        t = tuned["per_task"][task]
        rows.append((task, scores["n"], scores["rouge_l"], t["rouge_l"], scores["token_f1"], t["token_f1"]))
    return rows


def _read_json(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _png(figure) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return buffer.getvalue()


def metrics_chart(metrics: dict, key: str = "rouge_l") -> bytes:
    """Per task (and overall), base vs tuned bars with their bootstrap 95% intervals where known."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scopes = ["overall", *metrics["tuned"]["per_task"]]
    figure, axis = plt.subplots(figsize=(9, 4.2))
    width = 0.38
    for offset, (name, colour) in enumerate((("base", "#bab0ac"), ("tuned", "#4e79a7"))):
        if name not in metrics:
            continue
        blocks = [metrics[name]["overall"] if s == "overall" else metrics[name]["per_task"].get(s, {}) for s in scopes]
        values = [b.get(key) or 0.0 for b in blocks]
        errors = [[max(v - b["ci95"][key][0], 0) for v, b in zip(values, blocks, strict=True)],
                  [max(b["ci95"][key][1] - v, 0) for v, b in zip(values, blocks, strict=True)]] \
            if all(key in b.get("ci95", {}) for b in blocks) else None
        axis.bar([i + (offset - 0.5) * width for i in range(len(scopes))], values, width, yerr=errors, capsize=3,
                 label=name, color=colour)
    axis.set_xticks(range(len(scopes)), [s.replace(" ", "\n", 1) for s in scopes], fontsize=8)
    axis.set_ylabel(key.replace("_", "-").upper() if key.startswith("rouge") else key)
    axis.set_title(f"{key} per task, base vs tuned (bars: bootstrap 95% interval)", fontsize=10)
    axis.legend(fontsize=8)
    return _png(figure)


def judge_chart(judge: dict) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 3.2))
    names = list(judge["scores"])
    width = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):
        counts = [judge["scores"][name]["distribution"][str(s)] for s in (1, 2, 3, 4)]
        axis.bar([s + (i - (len(names) - 1) / 2) * width for s in (1, 2, 3, 4)], counts, width, label=name)
    axis.set_xticks([1, 2, 3, 4], ["1 unacceptable", "2 poor", "3 satisfactory", "4 excellent"], fontsize=8)
    axis.set_ylabel("answers")
    axis.set_title(f"judge scores ({judge['model']}; {judge['missing']} unparseable, counted apart)", fontsize=10)
    axis.legend(fontsize=8)
    return _png(figure)


def _gains(examples: list[dict], n: int = 3) -> tuple[list[dict], list[dict]]:
    """The examples the tuning helped most and hurt most, by ROUGE-L tuned - base."""
    from clintune.evaluate.metrics import Scorer

    scorer = Scorer()
    scored = []
    for ex in examples:
        base = ex.get("prediction_base", ex.get("base"))
        tuned = ex.get("prediction_tuned", ex.get("tuned"))
        if base is None or tuned is None:
            continue
        delta = scorer.score(tuned, ex["answer"])["rouge_l"] - scorer.score(base, ex["answer"])["rouge_l"]
        scored.append({**ex, "base_answer": base, "tuned_answer": tuned, "delta": delta})
    scored.sort(key=lambda e: e["delta"])
    return [e for e in scored[::-1][:n] if e["delta"] > 0], [e for e in scored[:n] if e["delta"] < 0]


def _memory_rows(run_dir: Path) -> list[tuple[str, str]] | str:
    try:
        from clintune.config import load_config
        from clintune.memory.estimate import meta_model, model_config_from
        from clintune.memory.plan import plan_memory

        config = load_config(run_dir / "config.yaml")
        summary = _read_json(run_dir / "train_summary.json") or {}
        precision = summary.get("precision", "bf16")
        device = "cuda" if summary.get("device") == "cuda" else "cpu"
        plan = plan_memory(meta_model(model_config_from(config.model.name)), config, precision, device)
    except (ClintuneError, OSError, ValueError) as exc:
        return f"not available ({exc})"
    return [(key, f"{value / GIB:.3f} GiB") for key, value in plan.bytes.items()]


def build_report(run_dir: Path) -> tuple[Path, Path]:
    if not (run_dir / "config.yaml").is_file():
        raise ClintuneError("not a clintune run directory (no config.yaml)", where=str(run_dir),
                            fix="pass the folder a training run or the demo wrote")
    evaluated = run_dir / "eval"
    metrics = _read_json(evaluated / "metrics.json") or _read_json(run_dir / "metrics.json")
    examples = _read_jsonl(evaluated / "predictions.jsonl") or _read_jsonl(run_dir / "predictions.jsonl")
    card = _read_json(run_dir / "data" / "data_card.json")
    images: dict[str, bytes] = {}
    if (run_dir / "loss.png").is_file():
        images["loss"] = (run_dir / "loss.png").read_bytes()
    if metrics and "tuned" in metrics:
        images["metrics"] = metrics_chart(metrics)
    if metrics and metrics.get("judge"):
        images["judge"] = judge_chart(metrics["judge"])
    memory = _memory_rows(run_dir)
    gains, losses = _gains(examples)
    blocks = _blocks(run_dir, metrics, card, memory, gains, losses, images)
    for name, data in images.items():
        (run_dir / f"report-{name}.png").write_bytes(data)
    markdown = "\n\n".join(_markdown(block) for block in blocks) + "\n"
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>clintune report: "
            f"{html.escape(run_dir.name)}</title><style>body{{font-family:sans-serif;max-width:62em;margin:2em auto;"
            "padding:0 1em}td,th{padding:.2em .6em;border-bottom:1px solid #ddd;text-align:left;word-break:break-word}"
            "img{max-width:100%}blockquote{color:#444}</style></head><body>"
            + "".join(_html(block, images) for block in blocks) + "</body></html>")
    write_text(run_dir / "report.md", markdown)
    write_text(run_dir / "report.html", page)
    return run_dir / "report.md", run_dir / "report.html"


def _blocks(run_dir, metrics, card, memory, gains, losses, images) -> list[tuple]:
    """The report as ('h1'|'h2'|'p'|'table'|'img', content) blocks, rendered to both Markdown and HTML."""
    blocks: list[tuple] = [("h1", f"clintune report: {run_dir.name}")]
    summary = _read_json(run_dir / "train_summary.json") or (metrics or {}).get("train")
    if summary:
        blocks.append(("p", ", ".join(f"{k}: {v}" for k, v in summary.items() if not isinstance(v, dict))))
    blocks.append(("h2", "Data"))
    if card:
        facts = [(k, json.dumps(v) if isinstance(v, dict | list) else str(v)) for k, v in card.items()]
        blocks.append(("table", ("field", "value"), facts[:20]))
    else:
        blocks.append(("p", "No data card in data/ (the run did not prepare data)."))
    blocks.append(("h2", "Training loss"))
    blocks.append(("img", "loss") if "loss" in images else ("p", "No loss.png in the run directory."))
    blocks.append(("h2", "Memory plan"))
    blocks.append(("table", ("component", "planned"), memory) if isinstance(memory, list) else ("p", memory))
    blocks.append(("h2", "Metrics, base vs tuned"))
    if metrics and "tuned" in metrics:
        rows = []
        for scope in ["overall", *metrics["tuned"]["per_task"]]:
            def get(name, key, scope=scope):
                block = (metrics.get(name, {}).get("overall") if scope == "overall"
                         else metrics.get(name, {}).get("per_task", {}).get(scope)) or {}
                return f"{block[key]:.3f}" if block.get(key) is not None else "-"
            rows.append((scope, get("tuned", "n"), get("base", "rouge_l"), get("tuned", "rouge_l"),
                         get("base", "token_f1"), get("tuned", "token_f1"), get("base", "ungrounded_share"),
                         get("tuned", "ungrounded_share")))
        blocks.append(("table", ("task", "n", "ROUGE-L base", "ROUGE-L tuned", "token F1 base", "token F1 tuned",
                                 "ungrounded base", "ungrounded tuned"),
                       [(r[0], r[1].split(".")[0], *r[2:]) for r in rows]))
        blocks.append(("p", "Ungrounded: the share of answers to answerable questions that assert something the note "
                            "does not hold (a medication, a number, a date, an abbreviation or a clinical term); "
                            "lower is better."))
        blocks.append(("img", "metrics"))
    else:
        blocks.append(("p", f"No metrics yet: run `clintune eval --run {run_dir} --compare-base`."))
    blocks.append(("h2", "Benchmarks (lm-evaluation-harness), base vs tuned"))
    blocks.append(_bench_block(run_dir))
    blocks.append(("h2", "Judge"))
    blocks.append(("img", "judge") if "judge" in images else
                  ("p", "No judge scores: add --judge URL --judge-model NAME to `clintune eval`."))
    for title, chosen in (("Largest gains (ROUGE-L, tuned - base)", gains), ("Largest losses", losses)):
        blocks.append(("h2", title))
        if not chosen:
            blocks.append(("p", "None."))
        for ex in chosen:
            blocks.append(("p", f"[{ex.get('task', '')}] {ex['question']} (ROUGE-L {ex['delta']:+.3f})"))
            blocks.append(("table", ("", "answer", "unsupported spans"), [
                ("gold", ex["answer"], ""),
                *((name, ex[f"{name}_answer"], "; ".join(span["text"] for span in ex.get(f"unsupported_{name}") or []))
                  for name in ("base", "tuned"))]))
    return blocks


def _bench_block(run_dir: Path) -> tuple:
    bench = _read_json(run_dir / "bench" / "results.json")
    if not bench:
        return ("p", f"No benchmark results: run `clintune bench {run_dir} --tasks notes` (or clinical tasks).")

    def cell(value) -> str:
        return "-" if value is None else f"{value:.3f}"

    limit = f", the first {bench['limit']} documents of each" if bench.get("limit") else ""
    return ("table", ("task", "metric", "base", "tuned", f"tuned - base ({bench.get('lm_eval', 'lm-eval')}{limit})"),
            [(row["task"], row["metric"], cell(row["base"]), cell(row["tuned"]),
              "-" if row["base"] is None else f"{row['tuned'] - row['base']:+.3f}") for row in bench["rows"]])


def _markdown(block: tuple) -> str:
    kind = block[0]
    if kind in ("h1", "h2"):
        return f"{'#' if kind == 'h1' else '##'} {block[1]}"
    if kind == "p":
        return block[1]
    if kind == "img":
        return f"![{block[1]}](report-{block[1]}.png)"
    header, rows = block[1], block[2]
    clean = [[str(c).replace("|", "\\|").replace("\n", " ") for c in row] for row in rows]
    return "\n".join([f"| {' | '.join(header)} |", "|" + "---|" * len(header),
                      *[f"| {' | '.join(row)} |" for row in clean]])


def _html(block: tuple, images: dict[str, bytes]) -> str:
    kind = block[0]
    if kind in ("h1", "h2", "p"):
        return f"<{kind}>{html.escape(block[1])}</{kind}>"
    if kind == "img":
        data = base64.b64encode(images[block[1]]).decode()
        return f"<img alt='{block[1]} chart' src='data:image/png;base64,{data}'>"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in block[1])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in block[2])
    return f"<table><tr>{head}</tr>{body}</table>"
