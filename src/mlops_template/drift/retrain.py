"""Retraining after drift: the labelled current batch becomes a training input of its own.

`retrain` writes the current batch's labelled rows, in the raw format, to a new file
`data.labelled_dir/<date>.csv`, lists it in `data.extra_inputs` (params.yaml; the ingest
stage appends it to `data.input`), reruns the pipeline (`dvc repro`: gate, clean, split,
train, evaluate, quality gate), commits on one branch (`drift.retrain.branch`,
force-pushed: it belongs to the bot) and opens or updates the one pull request for it.
`data.input` itself is never changed, so its own checks still hold (the embedded sample
stays exactly what the generator writes) and the pull request's CI can pass.

Where the new file lives: with a DVC remote configured (`make pull` sets one from
DVC_REMOTE_URL) it is DVC-tracked and pushed to the remote before the branch is pushed,
so the pull request's CI can pull it; without a remote it is committed to git, like the
embedded sample. The synthetic demo batch is never retrained on.

It never imports `train`: the pipeline runs as DVC runs it, in a subprocess.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from mlops_template.data.ingest import CSV_FORMAT
from mlops_template.drift.sources import CurrentBatch, load_current
from mlops_template.external import CommandError, output_or_none, run
from mlops_template.features import contract
from mlops_template.files import replacing
from mlops_template.params import Params

BOT_NAME = "github-actions[bot]"
BOT_EMAIL = "41898282+github-actions[bot]@users.noreply.github.com"
DVC = (sys.executable, "-m", "dvc")
_EXTRA_INPUTS = re.compile(r"^(?P<indent>[ \t]+)extra_inputs:[ \t]*\[(?P<items>[^\]\n]*)\](?P<rest>[^\n]*)$", re.M)


class RetrainError(RuntimeError):
    """Retraining cannot go ahead; the message says why and what to do."""


def _run(*args: str) -> str:
    try:
        return run(args)
    except CommandError as exc:
        raise RetrainError(str(exc)) from exc


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


def new_batch_file(directory: Path, now: datetime) -> Path:
    """`<date>.csv`, or `<date>-2.csv`… when a batch of that day is already there."""
    path, count = directory / f"{now:%Y-%m-%d}.csv", 1
    while path.exists() or path.with_name(path.name + ".dvc").exists():
        count += 1
        path = directory / f"{now:%Y-%m-%d}-{count}.csv"
    return path


def write_batch(path: Path, rows: pd.DataFrame) -> None:
    """The rows as a raw CSV (header included), written the way ingest appends rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as tmp:
        rows.to_csv(tmp, index=False, lineterminator="\n", **CSV_FORMAT)


def list_extra_input(params_file: Path, entry: str) -> None:
    """Add `entry` to `data.extra_inputs`, editing only that line (comments and layout stay)."""
    text = params_file.read_text(encoding="utf-8")
    found = list(_EXTRA_INPUTS.finditer(text))
    if len(found) != 1:
        raise RetrainError(
            f"{params_file}: expected one `extra_inputs: [...]` line (a flow list under `data:`); "
            f"write it that way, or add {entry} to data.extra_inputs by hand"
        )
    match = found[0]
    items = [item.strip() for item in match["items"].split(",") if item.strip()]
    items += [] if entry in items else [entry]
    line = f"{match['indent']}extra_inputs: [{', '.join(items)}]{match['rest']}"
    with replacing(params_file) as tmp:
        tmp.write_text(text[: match.start()] + line + text[match.end() :], encoding="utf-8")


def dvc_remote() -> str | None:
    """The default DVC remote's name, or None when no remote is configured."""
    return output_or_none([*DVC, "remote", "default"])


@dataclass(frozen=True)
class Retrained:
    rows_added: int
    source: str
    branch: str
    commit: str
    metrics: dict[str, Any]
    data_file: Path
    remote: str | None


def retrain(
    params: Params,
    now: datetime,
    *,
    branch: str,
    base: str,
    push: bool = True,
    params_file: Path = Path("params.yaml"),
) -> Retrained:
    """Add the labelled batch as a new input, rerun the pipeline, commit on `branch` and (with `push`) push it."""
    batch = load_current(params, now)
    if batch.kind == "sample":
        raise RetrainError(
            f"the current batch is the synthetic demo sample ({batch.description}): retraining on made-up rows "
            "is refused. Point the check at labelled real data (drift.file) and remove `sample` from drift.sources"
        )
    rows = labelled_rows(batch, [column.name for column in contract().columns])
    remote = dvc_remote()

    _run("git", "switch", "--force-create", branch)
    path = new_batch_file(params.data.labelled_dir, now)
    write_batch(path, rows)
    list_extra_input(params_file, path.as_posix())
    if remote:
        _run(*DVC, "add", str(path))  # path.dvc and the .gitignore entry go into git, the data to the remote
        staged = [f"{path}.dvc", str(path.parent / ".gitignore")]
    else:
        staged = [str(path)]
    _run(*DVC, "repro")
    _run("git", "add", "--update")  # params.yaml, dvc.lock, metrics, plots
    _run("git", "add", *staged)
    bot = ["-c", f"user.name={BOT_NAME}", "-c", f"user.email={BOT_EMAIL}"]
    identity = [] if output_or_none(["git", "config", "user.email"]) else bot
    where = f"DVC-tracked, for the DVC remote {remote}" if remote else "committed to git (no DVC remote)"
    message = (
        f"Retrain on {len(rows):,} more rows after drift ({now:%Y-%m-%d})\n\n"
        f"The drift check found drift; the labelled rows of {batch.description} are a new training input, "
        f"{path} ({where}), listed in data.extra_inputs."
    )
    _run("git", *identity, "commit", "--quiet", "--no-verify", "-m", message)
    commit = _run("git", "rev-parse", "HEAD").strip()
    if push:
        if remote:  # first the data, so that the pull request's CI can pull what the branch names
            _run(*DVC, "push", f"{path}.dvc")
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
    return Retrained(len(rows), batch.description, branch, commit, metrics, path, remote)


def pull_request_body(result: Retrained, drift_summary: str | None, run_url: str | None) -> str:
    where = f"DVC-tracked (on the DVC remote `{result.remote}`)" if result.remote else "committed to git"
    lines = [
        "## Retraining after data drift",
        "",
        f"The scheduled drift check found drift{': ' + drift_summary if drift_summary else ''}.",
        "",
        f"This branch adds **{result.rows_added:,} labelled rows** of the current batch ({result.source}) "
        f"as a new training input, `{result.data_file}` ({where}, listed in `data.extra_inputs`), and reruns "
        "the pipeline (`dvc repro`). The PR workflow's report compares the new model with main's; merging "
        "deploys it.",
    ]
    if result.metrics:
        shown = ", ".join(f"{k} {v:.4f}" for k, v in result.metrics.items() if isinstance(v, float))
        lines += ["", f"New model on the new test split: {shown}"]
    if run_url:
        lines += ["", f"Drift report: [workflow run]({run_url}) (artifact `drift-report`)."]
    return "\n".join(lines) + "\n"
