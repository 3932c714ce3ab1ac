"""The check's outputs: `drift.json` for machines, `drift.md` for people, small PNG plots.

The markdown is also the body of the GitHub issue; there the plots are replaced by a
link to the workflow run that holds them (an issue cannot show a file of the run).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from mlops_template.drift.compare import ColumnProfile, FeatureResult
from mlops_template.drift.stats import Histogram
from mlops_template.files import write_json, write_text
from mlops_template.markdown_table import table

JSON_NAME = "drift.json"
MARKDOWN_NAME = "drift.md"
PLOTS_DIR = "plots"
PLOT_GROUPS = 40  # a number's fine grid is shown as about this many bars
MARKER = "<!-- mlops-template:drift-report -->"
MAX_ISSUE_CHARS = 60_000  # GitHub's limit for an issue body is 65,536


def _fmt(value: object, spec: str = ".3g") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return format(value, spec)
    return str(value)


def _p(value: object) -> str:
    if value is None:
        return "–"
    number = float(value)  # type: ignore[arg-type]
    return "< 1e-12" if number < 1e-12 else f"{number:.2g}"


VERDICT_MARK = {"drift": "🔴 drift", "no drift": "🟢 no drift", "not tested": "⚪ not tested"}


def _feature_cells(f: dict[str, Any]) -> list[str]:
    missing = f"{f['missing_reference']:.1%} → {f['missing_current']:.1%}"
    if f.get("missing_p_adjusted") is not None and f["missing_p_adjusted"] < 0.5:
        missing += f" (p {_p(f['missing_p_adjusted'])})"  # only when it could matter: the table stays readable
    return [
        f"`{f['name']}`",
        f["kind"],
        _fmt(f["test"]),
        _fmt(f["statistic"]),
        _p(f["p_adjusted"]),
        _fmt(f["psi"], ".3f"),
        missing,
        f"{f['unseen_share']:.1%}" if f["unseen_share"] else "–",
        _fmt(f["weight"], "g"),
        VERDICT_MARK[f["verdict"]],
    ]


def to_markdown(document: dict[str, Any], *, plots_link: str | None = None, with_images: bool = True) -> str:
    """The human report. `with_images=False` (the issue body) links to `plots_link` instead."""
    status = document["status"]
    lines = [MARKER, f"# Drift check: {status.upper()}", "", f"**{document['summary']}**", ""]
    current, reference = document.get("current") or {}, document.get("reference") or {}
    if current:
        lines.append(f"- Current: {current['description']} — {current['rows']:,} rows")
    if reference:
        lines.append(
            f"- Reference: `{reference['path']}` (the deployed model's training data) — {reference['rows']:,} rows"
        )
    if document.get("model"):
        model = document["model"]
        lines.append(f"- Model: `{model['path']}` ({model['type']}, trained on data md5 `{model['data_md5']}`)")
    lines.append(
        f"- Checked: {document['checked_at']} in {document['duration_seconds']:.2f} s; "
        f"exit code {document['exit_code']}"
    )
    if status == "could not check":
        lines += ["", "Nothing was compared. Fix the cause above and run `make drift` again."]
        return "\n".join(lines) + "\n"

    s = document["settings"]
    lines += [
        f"- Drift score {document['score']:g} (sum of the weights of drifted items), "
        f"alarm at {document['trigger_score']:g}",
        "",
        "## Features",
        "",
        f"p-values are adjusted for {document['tests']} tests ({s['correction']}); a test is drift when "
        f"p ≤ {s['alpha']} and PSI ≥ {s['min_psi']} (missing share: change ≥ {s['min_missing_change']:.0%}); "
        f"unseen categories beyond {s['max_unseen_share']:.0%} of values are drift by themselves.",
        "",
    ]
    items = [*document["features"], *([document["prediction"]] if document.get("prediction") else [])]
    items.sort(key=lambda f: (f["verdict"] != "drift", -(f["psi"] or 0.0)))
    header = [
        "feature",
        "kind",
        "test",
        "statistic",
        "p (adj.)",
        "PSI",
        "missing ref → cur",
        "unseen",
        "weight",
        "verdict",
    ]
    lines += table(header, [_feature_cells(f) for f in items], align="lllrrrlrrl")
    drifted = [f for f in items if f["verdict"] == "drift"]
    if drifted:
        lines += ["", "Why:"]
        lines += [f"- `{f['name']}`: " + "; ".join(f["reasons"]) for f in drifted]

    perf = document.get("performance")
    lines += ["", "## Model performance", ""]
    if perf:
        lines.append(
            f"{perf['metric']} on {perf['labelled_rows']:,} labelled rows: {perf['current']:.4f} "
            f"(test split: {perf['reference']:.4f}, drop {perf['drop']:+.4f}, alarm at {perf['max_drop']}) — "
            f"{VERDICT_MARK[perf['verdict']]}"
            + (
                f"; {perf['positive_rate_current']:.1%} {perf.get('positive_label', 'positive')}"
                if perf.get("positive_rate_current") is not None
                else ""
            )
            + (
                f" (test split {perf['positive_rate_reference']:.1%})"
                if perf.get("positive_rate_reference") is not None
                else ""
            )
        )
    else:
        lines.append("Not checked: the current batch has no labels (the target column).")
    if document.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {n}" for n in document["notes"]]

    plots = document.get("plots") or {}
    if plots:
        lines += ["", "## The most changed features", ""]
        if with_images:
            lines += [f"![{name}]({path})" for name, path in plots.items()]
        elif plots_link:
            lines.append(
                f"Plots of {', '.join(f'`{n}`' for n in plots)}: "
                f"in the `drift-report` artifact of [this run]({plots_link})."
            )
    return "\n".join(lines) + "\n"


def issue_body(document: dict[str, Any], run_url: str | None) -> str:
    body = to_markdown(document, plots_link=run_url, with_images=False)
    if run_url:
        body += f"\n_Updated by the scheduled drift check, [run]({run_url})._\n"
    if len(body) > MAX_ISSUE_CHARS:
        body = body[:MAX_ISSUE_CHARS] + "\n\n… (cut: the full report is in the run's `drift-report` artifact)\n"
    return body


def _plot_bars(profile: ColumnProfile, hist: Histogram) -> tuple[list[str], np.ndarray]:
    """Labels and shares of the bars for one histogram."""
    counts = hist.counts.astype(float)
    total = max(counts.sum(), 1.0)
    if profile.grid is None:
        labels = [*profile.spec.categories, "unseen"]
        return labels, counts / total
    grid = profile.grid
    # inner bins 1..bins grouped into PLOT_GROUPS bars, plus the two tails
    step = max(1, grid.bins // PLOT_GROUPS)
    starts = np.concatenate([[0], np.arange(1, grid.bins + 1, step), [grid.bins + 1]])
    grouped = np.add.reduceat(counts, starts)
    edges = grid.low + grid.width * (starts[1:-1] - 1)
    labels = ["below", *[f"{e:.4g}" for e in edges], "above"]
    return labels, grouped / total


def plot_feature(result: FeatureResult, path: Path) -> None:
    """Reference vs current shares: bars for categories, outlines over the value grid for numbers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assert result.profile is not None
    assert result.reference is not None
    assert result.current is not None
    labels, ref = _plot_bars(result.profile, result.reference)
    _, cur = _plot_bars(result.profile, result.current)
    fig, ax = plt.subplots(figsize=(5.0, 2.6), dpi=90)
    x = np.arange(len(labels))
    if result.profile.grid is None:
        ax.bar(x - 0.2, ref, width=0.4, label="reference", color="#7a9cc6")
        ax.bar(x + 0.2, cur, width=0.4, label="current", color="#e07b39")
        ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=7)
    else:
        ax.step(x, ref, where="mid", label="reference", color="#3b6ea5")
        ax.step(x, cur, where="mid", label="current", color="#e07b39")
        ticks = np.linspace(1, len(labels) - 2, 5).round().astype(int)
        ax.set_xticks(ticks, [labels[i] for i in ticks], fontsize=7)
    ax.set_ylabel("share", fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    psi = f"PSI {result.psi:.3f}" if result.psi is not None else ""
    ax.set_title(f"{result.name} — {result.verdict} {psi}", fontsize=8)
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def write(directory: Path, document: dict[str, Any], plotted: list[FeatureResult]) -> tuple[Path, Path]:
    """Replace the previous report: plots first, then the markdown and the JSON that name them."""
    plots_dir = directory / PLOTS_DIR
    shutil.rmtree(plots_dir, ignore_errors=True)
    if plotted:
        plots_dir.mkdir(parents=True, exist_ok=True)
    plots = {}
    for result in plotted:
        relative = f"{PLOTS_DIR}/{_safe_name(result.name)}.png"
        plot_feature(result, directory / relative)
        plots[result.name] = relative
    document["plots"] = plots
    json_path, md_path = directory / JSON_NAME, directory / MARKDOWN_NAME
    write_text(md_path, to_markdown(document))
    write_json(json_path, document)
    return json_path, md_path
