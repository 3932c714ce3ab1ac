"""Retraining after drift: the training data grows by the labelled current batch.

`retrain` appends the current batch's labelled rows to the raw input (`data.input`, a
local CSV/Parquet file, DVC-tracked or in git), reruns the pipeline (`dvc repro`: gate,
clean, split, train, evaluate, quality gate), commits the result on one branch
(`drift.retrain.branch`, force-pushed: it belongs to the bot) and opens or updates the one
pull request for it. The PR workflow then compares the new model with main's and posts
the usual report; merging it deploys the model like any other change.

It never imports `train`: the pipeline runs as DVC runs it, in a subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from mlops_template.data.ingest import is_url
from mlops_template.data.read import CSV_SUFFIXES, PARQUET_SUFFIXES
from mlops_template.drift.sources import CurrentBatch, load_current
from mlops_template.features import contract
from mlops_template.files import replacing
from mlops_template.params import Params

BOT_NAME = "github-actions[bot]"
BOT_EMAIL = "41898282+github-actions[bot]@users.noreply.github.com"


class RetrainError(RuntimeError):
    """Retraining cannot go ahead; the message says why and what to do."""


def _run(*args: str, cwd: Path = Path()) -> str:
    """git and dvc with arguments built here, never through a shell."""
    result = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip().splitlines()
        raise RetrainError(f"`{' '.join(args[:3])}` failed: " + "\n".join(output[-15:]))
    return result.stdout


def _git(*args: str, cwd: Path = Path()) -> str:
    return _run("git", *args, cwd=cwd)


def labelled_rows(batch: CurrentBatch, header: list[str]) -> pd.DataFrame:
    """The rows of the batch that carry a label, in the columns (and order) of the raw input."""
    target = contract().target.name
    missing = [c for c in header if c not in batch.raw.columns]
    if missing:
        raise RetrainError(
            f"the current batch ({batch.description}) lacks column(s) {', '.join(missing)} of the raw input; "
            "retraining needs labelled rows in the raw format (e.g. a labelled export as drift.file)"
        )
    rows = batch.raw[batch.raw[target].notna()]
    if rows.empty:
        raise RetrainError(
            f"the current batch ({batch.description}) has no labels ({target!r}): nothing to retrain on yet"
        )
    return rows[header]


def append_to_input(path: Path, rows: pd.DataFrame) -> None:
    """Append to the raw input atomically: a CSV keeps its bytes and gains lines (a small diff)."""
    suffix = path.suffix.lower()
    with replacing(path) as tmp:
        if suffix in PARQUET_SUFFIXES:
            pd.concat([pd.read_parquet(path), rows.astype(object)], ignore_index=True).to_parquet(tmp, index=False)
            return
        data = path.read_bytes()
        text = rows.to_csv(
            index=False,
            header=False,
            lineterminator="\n",
            float_format="%.10g",
            date_format="%Y-%m-%d",
        )
        tmp.write_bytes(data + (b"" if data.endswith(b"\n") else b"\n") + text.encode("utf-8"))


def csv_header(path: Path) -> list[str]:
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return list(pd.read_parquet(path).columns)
    with path.open(encoding="utf-8-sig") as handle:
        return [name.strip() for name in handle.readline().rstrip("\n").split(",")]


@dataclass(frozen=True)
class Retrained:
    rows_added: int
    source: str
    branch: str
    commit: str
    metrics: dict[str, Any]


def retrain(params: Params, now: datetime, *, branch: str, base: str, push: bool = True) -> Retrained:
    """Grow the data, rerun the pipeline, commit on `branch` and (with `push`) push it."""
    source = params.data.input
    if is_url(source):
        raise RetrainError(
            f"data.input is a URL ({source}); retraining appends to the training data, so point data.input at a "
            "local or DVC-tracked file"
        )
    path = Path(source)
    if path.suffix.lower() not in (*CSV_SUFFIXES, *PARQUET_SUFFIXES) or not path.is_file():
        raise RetrainError(f"data.input {source} is not a local CSV/Parquet file (run `dvc pull` if it is tracked)")
    batch = load_current(params, now)
    rows = labelled_rows(batch, csv_header(path))

    _git("switch", "--force-create", branch)
    append_to_input(path, rows)
    if path.with_name(path.name + ".dvc").exists():
        _run(sys.executable, "-m", "dvc", "add", str(path))
    _run(sys.executable, "-m", "dvc", "repro")
    _git("add", "--update")  # tracked files only: the data (or its .dvc file), dvc.lock, metrics, plots
    identity = (
        []
        if _run_ok("git", "config", "user.email")
        else ["-c", f"user.name={BOT_NAME}", "-c", f"user.email={BOT_EMAIL}"]
    )
    message = (
        f"Retrain on {len(rows):,} more rows after drift ({now:%Y-%m-%d})\n\n"
        f"The drift check found drift; the training data grew by the labelled rows of {batch.description}."
    )
    _git(*identity, "commit", "--quiet", "--no-verify", "-m", message)
    commit = _git("rev-parse", "HEAD").strip()
    if push:
        _run(
            "git",
            "-c",
            "credential.helper=",
            "-c",
            "credential.helper=!gh auth git-credential",
            "push",
            "--force",
            "origin",
            f"HEAD:refs/heads/{branch}",
        )
    metrics = json.loads(params.paths.metrics.read_text(encoding="utf-8")) if params.paths.metrics.exists() else {}
    return Retrained(len(rows), batch.description, branch, commit, metrics)


def _run_ok(*args: str) -> bool:
    result = subprocess.run(list(args), capture_output=True, text=True, check=False)  # noqa: S603
    return result.returncode == 0 and bool(result.stdout.strip())


def pull_request_body(result: Retrained, drift_summary: str | None, run_url: str | None) -> str:
    lines = [
        "## Retraining after data drift",
        "",
        f"The scheduled drift check found drift{': ' + drift_summary if drift_summary else ''}.",
        "",
        f"This branch adds **{result.rows_added:,} labelled rows** of the current batch ({result.source}) "
        "to the training data and reruns the pipeline (`dvc repro`). The PR workflow's report compares "
        "the new model with main's; merging deploys it.",
    ]
    if result.metrics:
        shown = ", ".join(f"{k} {v:.4f}" for k, v in result.metrics.items() if isinstance(v, float))
        lines += ["", f"New model on the new test split: {shown}"]
    if run_url:
        lines += ["", f"Drift report: [workflow run]({run_url}) (artifact `drift-report`)."]
    return "\n".join(lines) + "\n"
