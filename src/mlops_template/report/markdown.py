"""The report as GitHub-flavoured markdown: what a reviewer reads in the PR comment.

Order follows the reviewer's questions: may this merge (verdict and reasons), did the
model get better (metrics, quality gate), did the data pass (data gate), what changed
(params), where (segments), how it looks (plots), is the world shifting (drift), and
what exactly was tested (lineage).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mlops_template.gate_report import findings_table
from mlops_template.markdown_table import table
from mlops_template.metric_names import SEGMENT_COLUMNS
from mlops_template.report.compare import MetricChange, Verdict

MARKS = {
    "better": "🟢 better",
    "worse": "🔴 worse",
    "unchanged": "⚪ unchanged",
    "new": "🆕 new",
    "removed": "removed",
    "info": "",
}


@dataclass(frozen=True)
class ReportContent:
    """Everything the markdown shows, already judged (built by `build`)."""

    verdict: Verdict
    base: str
    base_sha: str
    head_sha: str
    pr_number: int | None
    pr_head_sha: str | None
    run_url: str | None
    tolerance: float
    guarded: list[str]  # report.must_not_regress
    metrics_fresh: bool
    metrics: list[MetricChange]
    quality_gate: dict[str, Any] | None
    data_gate: dict[str, Any] | None
    gate_examples: int
    params: list[tuple[str, Any, Any]]
    segment_column: str | None
    segments: dict[str, dict[str, MetricChange]]
    images: list[tuple[str, str]]  # (title, file name)
    drift_markdown: str | None
    data_md5: str | None
    data_path: str
    model_card: dict[str, Any] | None
    stale_stages: list[str] = field(default_factory=list)


def _short(sha: str | None) -> str:
    return f"`{sha[:7]}`" if sha else "—"


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if float(value).is_integer() and abs(value) >= 10 else f"{value:.4f}"


def _delta(change: MetricChange) -> str:
    if change.delta is None:
        return "—"
    arrow = "▲" if change.delta > 0 else ("▼" if change.delta < 0 else "")
    return f"{change.delta:+.4f} {arrow}".strip()


def _demote(markdown: str, levels: int = 2) -> str:
    """Push headings of embedded markdown (drift.md) below the report's own."""
    return re.sub(r"^(#{1,4}) ", lambda m: "#" * min(len(m.group(1)) + levels, 6) + " ", markdown, flags=re.M)


def _header(c: ReportContent) -> list[str]:
    title = "✅ ready to merge" if c.verdict.passed else f"❌ not ready: {len(c.verdict.reasons)} problem(s)"
    where = [f"PR #{c.pr_number}" if c.pr_number else "working tree", f"{_short(c.pr_head_sha or c.head_sha)}"]
    where.append(f"vs `{c.base}` {_short(c.base_sha)}")
    if c.data_md5:
        where.append(f"data md5 `{c.data_md5[:12]}`")
    if c.run_url:
        where.append(f"[workflow run]({c.run_url})")
    lines = [f"## 🔬 Model report: {title}", "", " · ".join(where), ""]
    if c.verdict.reasons:
        lines += ["**Why this check fails**", ""] + [f"- {r}" for r in c.verdict.reasons] + [""]
    else:
        lines += [
            "The data passed the gate, the model passed the quality gate and no guarded metric "
            f"({', '.join(f'`{m}`' for m in c.guarded)}) is worse than on `{c.base}`.",
            "",
        ]
    if c.verdict.notes:
        lines += ["**Notes**", ""] + [f"- {note}" for note in c.verdict.notes] + [""]
    return lines


def _metrics(c: ReportContent) -> list[str]:
    lines = [f"### Metrics: `{c.base}` → this PR", ""]
    if not c.metrics_fresh:
        if c.data_gate is not None and not c.data_gate.get("passed"):
            why = "the data gate stopped the pipeline before training (see *Data gate*)"
        else:
            stages = ", ".join(f"`{s}`" for s in c.stale_stages) or "see the job log"
            why = f"the pipeline stopped before `evaluate` ({stages} did not finish)"
        return [*lines, f"No model was trained on this PR: {why}.", ""]
    judged = [m for m in c.metrics if m.change != "info"]
    described = {m.name: m for m in c.metrics if m.change == "info"}
    rows = [
        [f"{m.name} {'↑' if m.higher_is_better else '↓'}", _fmt(m.old), _fmt(m.new), _delta(m), MARKS[m.change]]
        for m in judged
    ]
    lines += [*table(["metric", c.base, "this PR", "change", "verdict"], rows, align="lrrrl"), ""]
    test = described.get("test_rows")
    rate = described.get("test_positive_rate")
    mean = described.get("test_target_mean")
    if test and test.new is not None:
        share = ""
        if rate and rate.new is not None:
            share = f", {rate.new:.1%} {_positive(c)}"
        elif mean and mean.new is not None:
            share = f", mean {_target(c)} {mean.new:,.4g}"
        lines += [f"Test split: {test.new:,.0f} rows{share}."]
    lines += [
        f"↑ higher is better, ↓ lower is better; a move within ±{c.tolerance} counts as unchanged "
        "(`report.tolerance` in params.yaml).",
        "",
    ]
    return lines


def _quality_gate(c: ReportContent) -> list[str]:
    gate = c.quality_gate
    if gate is None or not c.metrics_fresh:
        return []
    verdict = "✅ passed" if gate.get("passed") else "❌ failed"
    lines = [
        f"### Model-quality gate: {verdict}",
        "",
        "Limits from `evaluate.min_metrics` (≥) and `evaluate.max_metrics` (≤) in params.yaml.",
        "",
    ]
    rows = []
    for name, check in sorted(gate.get("checks", {}).items()):
        maximum = check.get("kind") == "maximum"
        failed = "❌ above the maximum" if maximum else "❌ below the minimum"
        limit = f"{'≤' if maximum else '≥'} {check.get('limit', check.get('minimum'))}"
        rows.append([name, limit, _fmt(check.get("value")), "✅" if check.get("passed") else failed])
    return [*lines, *table(["metric", "limit", "this PR", ""], rows, align="lrrl"), ""]


def _data_gate(c: ReportContent) -> list[str]:
    gate = c.data_gate
    if gate is None:
        return ["### Data gate: not run", "", "No validation report (`reports/validation/raw.json`) was found.", ""]
    verdict = "✅ passed" if gate.get("passed") else "❌ failed"
    lines = [
        f"### Data gate: {verdict}",
        "",
        f"{gate.get('rows', 0):,} rows × {gate.get('columns', 0)} columns checked from `{gate.get('source')}`: "
        f"{gate.get('error_count', 0):,} failing values, {gate.get('repairable_count', 0):,} repairable "
        f"(tolerated up to {gate.get('tolerance', 0):.2%} of rows; `prepare` sets them missing).",
        "",
    ]
    if gate.get("findings"):
        lines += [*findings_table(gate["findings"], c.gate_examples), ""]
    if not gate.get("passed"):
        lines += [
            "Nothing downstream ran. Fix the data at its source, or the contract in "
            "`src/mlops_template/schema.py` if the data is right; every failing row is in the "
            "`pr-report` artifact (`validation/raw.json`).",
            "",
        ]
    return lines


def _params(c: ReportContent) -> list[str]:
    if not c.params:
        return ["### Params changed", "", f"None: `params.yaml` is the same as on `{c.base}`.", ""]
    rows = [[f"`{name}`", old, new] for name, old, new in c.params]
    return ["### Params changed", "", *table(["param", c.base, "this PR"], rows, align="lrr"), ""]


def _segments(c: ReportContent) -> list[str]:
    if not c.segments or not c.metrics_fresh:
        return []
    shown = SEGMENT_COLUMNS.get(_task(c), SEGMENT_COLUMNS["binary"])
    header = [c.segment_column or "segment", "rows"] + [f"{m} ({c.base} → PR)" for m in shown]
    rows = []
    for segment, metrics in sorted(c.segments.items()):
        count = metrics.get("rows")
        cells: list[Any] = [segment, _fmt(count.new if count else None)]
        for name in shown:
            m = metrics.get(name)
            cells.append("—" if m is None else f"{_fmt(m.old)} → {_fmt(m.new)} {MARKS[m.change].split(' ')[0]}")
        rows.append(cells)
    title = f"### Per-segment metrics (`{c.segment_column}`)" if c.segment_column else "### Per-segment metrics"
    return [title, "", *table(header, rows, align="lr" + "r" * len(shown)), ""]


def _plots(c: ReportContent) -> list[str]:
    if not c.images or not c.metrics_fresh:
        return []
    cells = [f"![{title}]({name})" for title, name in c.images]
    pairs = [[*cells[i : i + 2], ""][:2] for i in range(0, len(cells), 2)]
    return ["### Plots", "", f"`{c.base}` dashed grey, this PR solid blue.", "", *table(["", ""], pairs), ""]


def _drift(c: ReportContent) -> list[str]:
    if not c.drift_markdown:
        return []
    return ["### Drift", "", _demote(c.drift_markdown.strip()), ""]


def _lineage(c: ReportContent) -> list[str]:
    card = c.model_card or {}
    items = [
        f"- Commit tested: `{c.head_sha}`"
        + (f" (PR head `{c.pr_head_sha}`)" if c.pr_head_sha and c.pr_head_sha != c.head_sha else ""),
        f"- Compared with: `{c.base}` = `{c.base_sha}`",
        f"- Data: `{c.data_path}`, md5 `{c.data_md5 or 'unknown'}` (DVC's hash, from dvc.lock)",
    ]
    if card and not c.metrics_fresh:
        items.append(
            f"- Model: not retrained on this PR (the workspace still holds `{card.get('model_type')}` from before)"
        )
    elif card:
        items.append(
            f"- Model: `{card.get('model_type')}` trained on {card.get('train_rows', 0):,} rows "
            f"{_train_share(card, c)}, scikit-learn {card.get('sklearn_version')}"
        )
        hyper = ", ".join(f"{k}={v}" for k, v in sorted(card.get("hyperparameters", {}).items()))
        items.append(f"- Hyper-parameters: {hyper}")
    return ["<details><summary>Lineage: commit, data and model</summary>", "", *items, "", "</details>", ""]


def _task(c: ReportContent) -> str:
    return str((c.model_card or {}).get("task", "binary"))


def _target(c: ReportContent) -> str:
    return str((c.model_card or {}).get("target", "target"))


def _positive(c: ReportContent) -> str:
    """`12.0% churned = yes`: the positive label's share, named by the contract's target and label."""
    labels = (c.model_card or {}).get("labels") or []
    return f"{_target(c)} = {labels[-1]}" if labels else "positive"


def _train_share(card: dict[str, Any], c: ReportContent) -> str:
    rate = card.get("train_positive_rate")
    return f"({rate:.1%} {_positive(c)})" if isinstance(rate, int | float) else f"(task: {_task(c)})"


def render(c: ReportContent) -> str:
    """The full comment body (without the posting watermark, which `post` adds)."""
    sections = [
        _header(c),
        _metrics(c),
        _quality_gate(c),
        _data_gate(c),
        _params(c),
        _segments(c),
        _plots(c),
        _drift(c),
        _lineage(c),
    ]
    return "\n".join(line for section in sections for line in section).rstrip() + "\n"
