"""What DVC says changed between a base revision and the working tree.

Everything here is DVC's own output: its commands with `--json`, run in this process:
`dvc metrics diff`, `dvc params diff`, `dvc plots diff` (the data of both revisions, with
the x/y fields and titles declared in dvc.yaml) and `dvc status` (which stages did not
finish). The report judges and draws this; it never recomputes a metric.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import chdir, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

from mlops_template.errors import UserError
from mlops_template.external import CommandError, run

WORKSPACE = "workspace"
BASE = "base"  # plot rows of the base revision are filed under this name, whatever the revision is called


class ReportError(UserError):
    """The report cannot be built; the message says what to do."""


@contextmanager
def _stdout_to(target: BinaryIO) -> Iterator[None]:
    """Send file descriptor 1 to `target`: DVC writes its JSON to the process's stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(target.fileno(), 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def dvc_json(cwd: Path, *args: str) -> Any:
    """`dvc ARGS --json`: DVC's own command, run in this process (one import of DVC for all of them)."""
    from dvc.cli import main as dvc

    with tempfile.TemporaryFile() as out:
        with chdir(cwd), _stdout_to(out):
            code = dvc([*args, "--json"])
        out.seek(0)
        text = out.read().decode("utf-8")
    if code != 0:
        raise ReportError(f"`dvc {' '.join(args)} --json` failed (exit {code}); its message is above")
    return json.loads(text) if text.strip() else {}


def git(cwd: Path, *args: str) -> str:
    try:
        return run(["git", *args], cwd=cwd).strip()
    except CommandError as exc:
        raise ReportError(str(exc)) from exc


def resolve_revision(cwd: Path, revision: str) -> tuple[str, str]:
    """The revision to use and its commit; `origin/main` falls back to a local `main` (a clone with no remote)."""
    candidates = [revision] + ([revision.removeprefix("origin/")] if revision.startswith("origin/") else [])
    for candidate in candidates:
        try:
            return candidate, git(cwd, "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}")
        except ReportError:
            continue
    raise ReportError(
        f"the base revision {revision!r} is not in this clone: fetch it (`git fetch origin main`; in CI "
        "check out with fetch-depth: 0) or pass another one (`mlops report --base REV`, env REPORT_BASE)"
    )


@dataclass(frozen=True)
class Plot:
    """One plot of dvc.yaml with the rows of each revision."""

    path: str
    title: str
    kind: Literal["line", "scatter", "confusion"]
    x: str
    y: str
    x_label: str
    y_label: str
    rows: dict[str, list[dict[str, Any]]]  # revision name -> rows


@dataclass(frozen=True)
class DvcOutputs:
    base: str
    base_sha: str
    head_sha: str
    metrics: dict[str, dict[str, dict[str, Any]]]  # file -> metric key -> {"old", "new", "diff"}
    params: dict[str, dict[str, dict[str, Any]]]  # file -> param key -> {"old", "new"}
    plots: list[Plot]
    stale_stages: list[str] = field(default_factory=list)


def _plot(path: str, entries: list[dict[str, Any]]) -> Plot | None:
    for entry in entries:
        if entry.get("type") != "vega":
            continue
        content = entry["content"]
        title = content.get("title", {})
        title = title.get("text", path) if isinstance(title, dict) else str(title or path)
        confusion = "facet" in content
        mark = content.get("mark")
        scatter = isinstance(mark, dict) and mark.get("type") == "point"
        encoding = content["spec"]["encoding"] if confusion else content["encoding"]
        x, y = encoding["x"], encoding["y"]
        rows: dict[str, list[dict[str, Any]]] = {}
        for row in content.get("data", {}).get("values", []):
            rev = row.get("rev", WORKSPACE)
            rows.setdefault(WORKSPACE if rev == WORKSPACE else BASE, []).append(row)
        return Plot(
            path=path,
            title=title,
            kind="confusion" if confusion else "scatter" if scatter else "line",
            x=x["field"],
            y=y["field"],
            x_label=str(x.get("title") or x["field"]),
            y_label=str(y.get("title") or y["field"]),
            rows=rows,
        )
    return None


def collect(base: str, cwd: Path = Path()) -> DvcOutputs:
    """Ask DVC what changed between `base` and the working tree."""
    base, base_sha = resolve_revision(cwd, base)
    head_sha = git(cwd, "rev-parse", "HEAD")
    metrics = dvc_json(cwd, "metrics", "diff", "--all", base)
    params = dvc_json(cwd, "params", "diff", base)
    plots_out = dvc_json(cwd, "plots", "diff", base)
    status = dvc_json(cwd, "status")
    plots = [p for path, entries in plots_out.get("data", {}).items() if (p := _plot(path, entries))]
    return DvcOutputs(
        base=base,
        base_sha=base_sha,
        head_sha=head_sha,
        metrics=metrics if isinstance(metrics, dict) else {},
        params=params if isinstance(params, dict) else {},
        plots=plots,
        stale_stages=sorted(status) if isinstance(status, dict) else [],
    )
