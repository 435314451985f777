"""loss.png from metrics.jsonl: one curve per stage, against optimizer steps."""

from __future__ import annotations

import json
from pathlib import Path

from clintune.runs import write_figure


def stage_losses(metrics_path: Path) -> dict[str, list[tuple[int, float]]]:
    """(step, loss) per stage; a resumed run logs some steps twice, and the later record wins."""
    by_stage: dict[str, dict[int, float]] = {}
    if metrics_path.is_file():
        for line in metrics_path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if "loss" in record:
                by_stage.setdefault(record["stage"], {})[record["step"]] = record["loss"]
    return {stage: sorted(points.items()) for stage, points in by_stage.items()}


def plot_stage_losses(metrics_path: Path, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = stage_losses(metrics_path)
    panels = max(len(curves), 1)
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 3.5), squeeze=False)
    for ax, (stage, points) in zip(axes[0], curves.items(), strict=False):
        steps, losses = zip(*points, strict=True)
        ax.plot(steps, losses, marker="o", markersize=3)
        label = "notes, every token" if stage == "pretrain" else "answer tokens"
        ax.set_title(f"stage {stage}: training loss ({label})")
        ax.set_xlabel("optimizer step")
        ax.set_ylabel("loss")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    write_figure(path, fig)
    plt.close(fig)
