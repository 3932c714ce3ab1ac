"""`mlops` commands of the drift loop: the check, its GitHub issue, the retraining pull request
and the keep-alive of the scheduled workflow. Part of the one `mlops` app (`cli.py` adds them).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mlops_template.cli_common import DEFAULT_PARAMS, ParamsOption, fail, read_params, user_errors

app = typer.Typer()

RunUrlOption = Annotated[
    str | None, typer.Option(envvar="DRIFT_RUN_URL", help="Link to the drift check's run (its artifact has the plots).")
]


class DriftSourceChoice(StrEnum):
    inference_log = "inference_log"
    file = "file"
    sample = "sample"


class RetrainChoice(StrEnum):
    params = "params"
    yes = "yes"
    no = "no"


@app.command()
@user_errors
def drift(
    params: ParamsOption = DEFAULT_PARAMS,
    source: Annotated[
        DriftSourceChoice | None, typer.Option(help="Use only this source instead of the list in drift.sources.")
    ] = None,
    current: Annotated[
        str | None,
        typer.Option(help="A CSV/Parquet path, URL or DVC-tracked file to check (instead of drift.sources)."),
    ] = None,
    fail_on_drift: Annotated[
        bool,
        typer.Option(
            "--fail-on-drift/--no-fail-on-drift",
            envvar="MLOPS_DRIFT_FAIL_ON_DRIFT",
            help="Exit 3 on drift (default); with --no-fail-on-drift drift exits 0 and only the report says so.",
        ),
    ] = True,
) -> None:
    """Drift check: the current batch against the training data. Exit 0 no drift, 3 drift, 4 could not check."""
    from mlops_template.drift import check

    outcome = check.run(read_params(params), source=source.value if source else None, file=current)
    color = {"drift": typer.colors.RED, "no drift": typer.colors.GREEN}.get(outcome.status, typer.colors.YELLOW)
    typer.secho(outcome.summary, fg=color, err=outcome.status == "could not check")
    typer.echo(f"report: {outcome.markdown_path} (machine-readable: {outcome.json_path})")
    drift_passes = outcome.status == "drift" and not fail_on_drift
    raise typer.Exit(code=check.EXIT_NO_DRIFT if drift_passes else outcome.exit_code)


@app.command("drift-issue")
@user_errors
def drift_issue(
    params: ParamsOption = DEFAULT_PARAMS,
    report: Annotated[
        Path | None, typer.Option(help="drift.json to publish; default: paths.drift_dir/drift.json.")
    ] = None,
    run_url: RunUrlOption = None,
    retrain: Annotated[
        str,
        typer.Option(
            envvar="DRIFT_RETRAIN", help="yes/no: retrain on drift; params (or empty): drift.retrain.enabled."
        ),
    ] = "params",
) -> None:
    """Publish a drift result on GitHub (gh): on drift open or update the ONE labelled issue; else post nothing."""
    from mlops_template.drift import check
    from mlops_template.drift.github import GitHubError, publish_result

    p = read_params(params)
    if retrain not in {"", *RetrainChoice}:
        fail(f"--retrain must be one of params, yes, no (got {retrain!r})")
    document = check.read_result(report or p.paths.drift_dir / "drift.json")
    try:
        typer.echo(publish_result(p, document, run_url or None, retrain).describe())
    except GitHubError as exc:
        fail(str(exc))


@app.command("drift-retrain")
@user_errors
def drift_retrain(
    params: ParamsOption = DEFAULT_PARAMS,
    base: Annotated[str, typer.Option(help="Branch the pull request targets.")] = "main",
    push: Annotated[bool, typer.Option(help="Push the branch and open the pull request (gh).")] = True,
    run_url: RunUrlOption = None,
) -> None:
    """Add the labelled current batch as a new training input, retrain, commit on drift.retrain.branch, open its PR."""
    from mlops_template.drift import check
    from mlops_template.drift.github import GitHubError, open_retrain_pull_request
    from mlops_template.drift.retrain import RetrainError, pull_request_body, retrain

    p = read_params(params)
    branch = p.drift.retrain.branch
    try:
        result = retrain(p, datetime.now(UTC), branch=branch, base=base, push=push, params_file=params)
        typer.echo(f"committed {result.commit[:12]} on {branch}: {result.rows_added:,} rows added from {result.source}")
        if push:
            summary = None
            if (p.paths.drift_dir / "drift.json").exists():
                summary = str(check.read_result(p.paths.drift_dir / "drift.json").get("summary"))
            title = f"Retrain after data drift ({result.rows_added:,} new rows)"
            body = pull_request_body(result, summary, run_url)
            typer.echo(open_retrain_pull_request(p, branch, base, title, body))
    except (RetrainError, GitHubError) as exc:
        fail(str(exc))


@app.command("labelled-batch")
@user_errors
def labelled_batch(
    params: ParamsOption = DEFAULT_PARAMS,
    out: Annotated[
        Path | None, typer.Option(help="The Parquet file to write; default: data.labelled_dir/<today>.parquet.")
    ] = None,
    days: Annotated[
        int | None, typer.Option(min=1, help="Join predictions of this many days back; default: drift.window_days.")
    ] = None,
) -> None:
    """The delayed labels (drift.labels) joined to the logged predictions: contract-shaped rows to train on."""
    from mlops_template.drift.labels import labelled_batch as build
    from mlops_template.drift.labels import write_batch
    from mlops_template.features import contract

    p = read_params(params)
    now = datetime.now(UTC)
    since = now - timedelta(days=days or p.drift.window_days)
    batch = build(p, since)
    path = write_batch(batch, out or p.data.labelled_dir / f"{now:%Y-%m-%d}.parquet")
    positive = int(batch[contract().target.name].sum())
    typer.echo(
        f"wrote {len(batch):,} labelled rows ({positive:,} positive) to {path}; "
        f"track it with `dvc add {path}` and list it in data.extra_inputs to train on it"
    )


@app.command()
@user_errors
def keepalive(
    params: ParamsOption = DEFAULT_PARAMS,
    after_days: Annotated[
        float | None,
        typer.Option(envvar="MLOPS_KEEPALIVE_AFTER_DAYS", help="Default: drift.keepalive_after_days."),
    ] = None,
    workflow: Annotated[str | None, typer.Option(help="Workflow file; default: the running workflow's.")] = None,
) -> None:
    """Keep the scheduled workflow enabled: re-enable it through the API once main is quiet (no commits)."""
    from mlops_template.drift.keepalive import keep_alive
    from mlops_template.github_api import GitHubError

    p = read_params(params)
    try:
        typer.echo(keep_alive(p.drift.keepalive_after_days if after_days is None else after_days, workflow))
    except GitHubError as exc:
        fail(str(exc))
