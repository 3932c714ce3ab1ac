"""PNG pictures of DVC's plots, the base revision and the PR drawn together.

Curves (ROC, precision-recall, calibration) are overlaid: base dashed grey, PR solid
blue; point clouds (DVC's `scatter` template: predicted against actual, residuals) are
overlaid as points, base grey, PR blue. The confusion matrix is drawn as two heat maps
side by side with their counts.
Matplotlib's Agg backend draws without a display, so this runs in CI and on a laptop.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from mlops_template.report.dvc_outputs import BASE, WORKSPACE, Plot

BASE_STYLE: dict[str, Any] = {"color": "#8a8a8a", "linestyle": "--", "linewidth": 1.6}
PR_STYLE: dict[str, Any] = {"color": "#1f6feb", "linestyle": "-", "linewidth": 2.0}
DPI = 96
# Curves whose no-skill (ROC) or perfect (calibration) line is the diagonal; a PR curve has none.
DIAGONAL_REFERENCE = {("fpr", "tpr"), ("mean_predicted", "fraction_positive")}


def file_name(plot: Plot) -> str:
    """`plots/roc.json` → `roc.png`."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", Path(plot.path).stem) + ".png"


def _xy(rows: list[dict[str, Any]], x: str, y: str) -> tuple[list[float], list[float]]:
    points = [(float(r[x]), float(r[y])) for r in rows if r.get(x) is not None and r.get(y) is not None]
    return [p[0] for p in points], [p[1] for p in points]


def confusion_counts(rows: list[dict[str, Any]], x: str, y: str) -> tuple[list[str], dict[tuple[str, str], int]]:
    """Labels and (actual, predicted) counts from DVC's per-row confusion data."""
    counts = Counter((str(r[y]), str(r[x])) for r in rows)
    labels = sorted({label for pair in counts for label in pair})
    return labels, dict(counts)


def draw_lines(plot: Plot, base_name: str, target: Path) -> None:
    fig, ax = plt.subplots(figsize=(4.6, 4.0), dpi=DPI)
    values: list[float] = []
    for rows, style, label in (
        (plot.rows.get(BASE), BASE_STYLE, base_name),
        (plot.rows.get(WORKSPACE), PR_STYLE, "this PR"),
    ):
        if rows:
            xs, ys = _xy(rows, plot.x, plot.y)
            values += xs + ys
            if plot.kind == "scatter":
                ax.scatter(xs, ys, label=label, color=style["color"], s=12, alpha=0.6)
            else:
                ax.plot(xs, ys, label=label, **style)
    if (plot.x, plot.y) in DIAGONAL_REFERENCE:
        ax.plot([0, 1], [0, 1], color="#d0d0d0", linewidth=0.8, zorder=0)
    if values and min(values) >= 0 and max(values) <= 1:  # rates and probabilities
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
    ax.set_title(plot.title)
    ax.set_xlabel(plot.x_label)
    ax.set_ylabel(plot.y_label)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(target)
    plt.close(fig)


def draw_confusion(plot: Plot, base_name: str, target: Path) -> None:
    panels = [(n, r) for n, r in ((base_name, plot.rows.get(BASE)), ("this PR", plot.rows.get(WORKSPACE))) if r]
    fig, axes = plt.subplots(1, max(len(panels), 1), figsize=(3.3 * max(len(panels), 1), 3.2), dpi=DPI, squeeze=False)
    for ax, (name, rows) in zip(axes[0], panels, strict=False):
        labels, counts = confusion_counts(rows, plot.x, plot.y)
        matrix = [[counts.get((actual, predicted), 0) for predicted in labels] for actual in labels]
        ax.imshow(matrix, cmap="Blues")
        peak = max((max(row) for row in matrix), default=0)
        for i, row in enumerate(matrix):
            for j, value in enumerate(row):
                ax.text(j, i, f"{value:,}", ha="center", va="center", color="white" if value > peak / 2 else "black")
        ax.set_xticks(range(len(labels)), labels)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel(plot.x_label)
        ax.set_ylabel(plot.y_label)
        ax.set_title(name)
    fig.suptitle(plot.title)
    fig.tight_layout()
    fig.savefig(target)
    plt.close(fig)


def draw(plot: Plot, base_name: str, directory: Path) -> Path:
    """Write the plot's PNG into `directory` and return its path."""
    target = directory / file_name(plot)
    if plot.kind == "confusion":
        draw_confusion(plot, base_name, target)
    else:
        draw_lines(plot, base_name, target)
    return target
