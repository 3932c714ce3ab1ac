"""Build the PR report: ask DVC what changed, judge it, draw it, write it to `paths.report_dir`.

Writes `report.md` (the comment), one PNG per DVC plot, `summary.json` (the verdict and
the PR it is for, read by `post` and `mlops report-check`) and a copy of the data gate's
full failure report. It is written whatever the outcome, so a failing check still tells
the reviewer why. Reads only files the pipeline wrote and DVC's output; imports no stage.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from mlops_template.metric_names import guarded
from mlops_template.params import Params
from mlops_template.report import plots as drawing
from mlops_template.report.compare import MetricChange, Verdict, judge, verdict
from mlops_template.report.dvc_outputs import DvcOutputs, ReportError, collect, git
from mlops_template.report.markdown import ReportContent, render

REPORT_FILE = "report.md"
SUMMARY_FILE = "summary.json"


@dataclass(frozen=True)
class PullRequest:
    """Which pull request the report is for (from the CI event; all optional on a laptop)."""

    number: int | None = None
    head_sha: str | None = None
    run_url: str | None = None


@dataclass(frozen=True)
class BuiltReport:
    directory: Path
    markdown: str
    verdict: Verdict

    @property
    def path(self) -> Path:
        return self.directory / REPORT_FILE


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _relative(path: Path) -> str:
    return path.as_posix()


def data_md5(lock_file: Path, raw: Path) -> str | None:
    """DVC's hash of the raw data, as recorded in dvc.lock by the ingest stage."""
    try:
        return _raw_md5(lock_file.read_text(encoding="utf-8"), raw)
    except FileNotFoundError:
        return None


def base_data_md5(root: Path, base_sha: str, raw: Path) -> str | None:
    """The same hash in the base revision's dvc.lock (None when it has none)."""
    try:
        return _raw_md5(git(root, "show", f"{base_sha}:dvc.lock"), raw)
    except ReportError:
        return None


def _raw_md5(lock_text: str, raw: Path) -> str | None:
    lock = yaml.safe_load(lock_text) or {}
    for stage in lock.get("stages", {}).values():
        for out in stage.get("outs", []):
            if out.get("path") == _relative(raw):
                return str(out.get("md5"))
    return None


def _flatten(prefix: str, value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, inner in value.items():
            flat |= _flatten(f"{prefix}.{key}" if prefix else str(key), inner)
        return flat
    return {prefix: value}


def metric_changes(outputs: DvcOutputs, metrics_file: Path, tolerance: float) -> list[MetricChange]:
    diff = outputs.metrics.get(_relative(metrics_file), {})
    return [judge(name, d.get("old"), d.get("new"), tolerance) for name, d in sorted(diff.items())]


def segment_changes(
    outputs: DvcOutputs, segments_file: Path, tolerance: float
) -> tuple[str | None, dict[str, dict[str, MetricChange]]]:
    """`column.segment.metric` keys of the segments file, grouped by segment."""
    diff = outputs.metrics.get(_relative(segments_file), {})
    column: str | None = None
    segments: dict[str, dict[str, MetricChange]] = {}
    for key, d in diff.items():
        parts = key.split(".")
        if len(parts) != 3:
            continue
        column, segment, metric = parts
        segments.setdefault(segment, {})[metric] = judge(metric, d.get("old"), d.get("new"), tolerance)
    return column, segments


def param_changes(outputs: DvcOutputs) -> list[tuple[str, Any, Any]]:
    return [
        (name if file == "params.yaml" else f"{file}:{name}", d.get("old"), d.get("new"))
        for file, changes in sorted(outputs.params.items())
        for name, d in sorted(changes.items())
    ]


def build(params: Params, base: str, pull: PullRequest | None = None, root: Path = Path()) -> BuiltReport:
    """Make the report for the working tree at `root` against the git revision `base`."""
    pull = pull or PullRequest()
    paths, settings = params.paths, params.report
    outputs = collect(base, root)
    out_dir = root / paths.report_dir
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)

    data_gate = _read_json(root / paths.validation_dir / "raw.json")
    quality_gate = _read_json(root / paths.quality_gate)
    gate_passed = None if data_gate is None else bool(data_gate.get("passed"))
    # A failed quality gate leaves only `evaluate` unrecorded in dvc.lock: its metrics are fresh.
    quality_failed = bool(quality_gate) and not quality_gate.get("passed")
    stale = [s for s in outputs.stale_stages if not (s == "evaluate" and quality_failed)]
    metrics_fresh = gate_passed is not False and not stale
    changes = metric_changes(outputs, paths.metrics, settings.tolerance) if metrics_fresh else []
    column, segments = segment_changes(outputs, paths.segment_metrics, settings.tolerance)
    head_data = data_md5(root / "dvc.lock", paths.raw)
    base_data = base_data_md5(root, outputs.base_sha, paths.raw)
    failures = [
        f"`{name}` is {check['value']:.4f}, "
        + ("above the maximum" if check.get("kind") == "maximum" else "below the minimum")
        + f" {check.get('limit', check.get('minimum'))}"
        for name, check in sorted((quality_gate or {}).get("checks", {}).items())
        if not check.get("passed")
    ]
    model_card = _read_json(root / paths.model_dir / "model_card.json")
    guarded_metrics = guarded(str((model_card or {}).get("task", "binary")), settings.must_not_regress)
    judged = verdict(
        gate_passed=gate_passed,
        pipeline_complete=not stale,
        stale_stages=stale,
        quality_gate_passed=(None if quality_gate is None or not metrics_fresh else bool(quality_gate.get("passed"))),
        quality_failures=failures,
        changes=changes,
        must_not_regress=guarded_metrics,
        tolerance=settings.tolerance,
        data_changed=None not in (base_data, head_data) and base_data != head_data,
    )

    base_name = outputs.base.removeprefix("origin/")
    images = []
    if metrics_fresh:
        for plot in outputs.plots:
            images.append((plot.title, drawing.draw(plot, base_name, out_dir).name))
    if data_gate is not None:
        (out_dir / "validation").mkdir()
        shutil.copy2(root / paths.validation_dir / "raw.json", out_dir / "validation" / "raw.json")
    drift = root / paths.drift_dir / "drift.md"
    content = ReportContent(
        verdict=judged,
        base=base_name,
        base_sha=outputs.base_sha,
        head_sha=outputs.head_sha,
        pr_number=pull.number,
        pr_head_sha=pull.head_sha,
        run_url=pull.run_url,
        tolerance=settings.tolerance,
        guarded=guarded_metrics,
        metrics_fresh=metrics_fresh,
        metrics=changes,
        quality_gate=quality_gate,
        data_gate=data_gate,
        gate_examples=settings.gate_examples,
        params=param_changes(outputs),
        segment_column=column,
        segments=segments,
        images=images,
        drift_markdown=drift.read_text(encoding="utf-8") if drift.is_file() else None,
        data_md5=head_data,
        data_path=_relative(paths.raw),
        model_card=model_card,
        stale_stages=stale,
    )
    markdown = render(content)
    (out_dir / REPORT_FILE).write_text(markdown, encoding="utf-8")
    summary = {
        "passed": judged.passed,
        "reasons": judged.reasons,
        "notes": judged.notes,
        "pull_request": asdict(pull),
        "base": outputs.base,
        "base_sha": outputs.base_sha,
        "head_sha": outputs.head_sha,
        "metrics": [asdict(m) | {"delta": m.delta} for m in changes],
        "images": [name for _, name in images],
    }
    (out_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return BuiltReport(out_dir, markdown, judged)


def check(report_dir: Path) -> Verdict:
    """The verdict of a report already built (`mlops report-check`, the last step of the PR job)."""
    summary = _read_json(report_dir / SUMMARY_FILE)
    if summary is None:
        raise FileNotFoundError(f"{report_dir / SUMMARY_FILE}: no report; run `make report` first")
    return Verdict(bool(summary["passed"]), list(summary["reasons"]), list(summary.get("notes", [])))
