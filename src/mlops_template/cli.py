"""The `mlops` command: one subcommand per pipeline stage and task.

dvc.yaml and the Makefile call these; each reads params.yaml and calls one function.
Errors a person can fix are printed as one clear message with exit code 1, never a
traceback (`cli_common.user_errors`). Heavy imports happen inside the commands, so
`mlops --help` is instant. The pipeline's commands are here; the drift loop's are in
`cli_drift.py` and the deploy side's in `cli_deploy.py`, added to this one app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlops_template import cli_deploy, cli_drift
from mlops_template.cli_common import DEFAULT_PARAMS, ParamsOption, fail, read_params, user_errors

app = typer.Typer(add_completion=False, no_args_is_help=True, help="The MLOps template: pipeline stages and tasks.")


@app.command("generate-sample")
@user_errors
def generate_sample(
    params: ParamsOption = DEFAULT_PARAMS,
    output: Annotated[Path | None, typer.Option(help="Where to write; default: data.input.")] = None,
    rows: Annotated[int | None, typer.Option(help="Rows; default: data.sample.rows.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed; default: data.sample.seed.")] = None,
    drift: Annotated[float | None, typer.Option(help="0 = reference world, 1 = a drifted batch.")] = None,
) -> None:
    """Write the seeded synthetic churn sample (the embedded data) or a drifted batch."""
    from mlops_template.data.generate import GeneratorSettings, generate_raw, write_csv

    p = read_params(params)
    sample = p.data.sample
    settings = GeneratorSettings(
        rows=rows or sample.rows,
        seed=sample.seed if seed is None else seed,
        defect_rate=sample.defect_rate,
        drift=sample.drift if drift is None else drift,
    )
    target = output or Path(p.data.input)
    write_csv(generate_raw(settings), target)
    typer.echo(f"wrote {target} ({settings.rows:,} customers, drift {settings.drift})")


@app.command()
@user_errors
def ingest(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Stage ingest: copy or download `data.input` to `paths.raw`."""
    from mlops_template.data import ingest as stage

    p = read_params(params)
    typer.echo(f"ingested {p.data.input} -> {stage.run(p)}")


@app.command()
@user_errors
def validate(
    params: ParamsOption = DEFAULT_PARAMS,
    input_file: Annotated[
        Path | None, typer.Option("--input", help="Gate this file instead of paths.raw (reports still written).")
    ] = None,
) -> None:
    """Stage validate: the data gate on the raw file; fails with a report of every failure."""
    from mlops_template import validate as stage

    p = read_params(params)
    report = stage.run(p, input_file)
    summary = report.to_markdown(p.validate_.summary_examples)
    if not report.passed:
        typer.echo(summary, err=True)
        fail(f"the data gate failed; full report: {p.paths.validation_dir / 'raw.json'}")
    typer.echo(summary)


@app.command()
@user_errors
def prepare(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Stage prepare: clean the raw data and check it against the clean schema."""
    from mlops_template import prepare as stage

    report = stage.run(read_params(params))
    cleaning = report.details["cleaning"]
    typer.echo(f"prepared {cleaning['rows_out']:,} rows from {cleaning['rows_in']:,}: {cleaning}")


@app.command()
@user_errors
def split(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Stage split: train and test files."""
    from mlops_template import split as stage

    n_train, n_test = stage.run(read_params(params))
    typer.echo(f"split: {n_train:,} train rows, {n_test:,} test rows")


@app.command()
@user_errors
def train(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Stage train: fit the model pipeline and save it with its model card."""
    from mlops_template import train as stage

    card = stage.run(read_params(params))
    typer.echo(f"trained {card.model_type} on {card.train_rows:,} rows (data md5 {card.data_md5})")


@app.command()
@user_errors
def evaluate(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Stage evaluate: metrics, plots, per-segment metrics and the model-quality gate."""
    from mlops_template import evaluate as stage

    gate = stage.run(read_params(params))
    if not gate.passed:
        fail(gate.message())
    typer.echo(gate.message())


@app.command()
@user_errors
def report(
    params: ParamsOption = DEFAULT_PARAMS,
    base: Annotated[
        str, typer.Option(envvar="REPORT_BASE", help="The git revision to compare with (CI: origin/main).")
    ] = "main",
    pr_number: Annotated[int | None, typer.Option(envvar="REPORT_PR_NUMBER", help="The pull request's number.")] = None,
    head_sha: Annotated[
        str | None, typer.Option(envvar="REPORT_HEAD_SHA", help="The pull request's head commit.")
    ] = None,
    run_url: Annotated[str | None, typer.Option(envvar="REPORT_RUN_URL", help="Link to the CI run.")] = None,
) -> None:
    """Build the PR report (markdown, PNG plots, verdict) from DVC's diff against --base.

    Run it after the pipeline, whatever the pipeline's outcome: it explains a failed gate too.
    """
    from mlops_template.report.build import PullRequest, build

    built = build(read_params(params), base, PullRequest(pr_number, head_sha or None, run_url or None))
    typer.echo(f"wrote {built.path} and {len(list(built.directory.glob('*.png')))} plots")
    typer.echo(
        "verdict: " + ("ready to merge" if built.verdict.passed else "not ready: " + "; ".join(built.verdict.reasons))
    )


@app.command("report-check")
@user_errors
def report_check(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Fail (exit 1) when the built report's verdict fails: the last step of the PR check."""
    from mlops_template.report.build import check

    verdict = check(read_params(params).paths.report_dir)
    if not verdict.passed:
        fail("the PR report's verdict is: not ready to merge\n- " + "\n- ".join(verdict.reasons))
    typer.echo("the PR report's verdict is: ready to merge")


@app.command()
@user_errors
def register(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Save the trained model (paths.model_dir) into the BentoML model store, with its lineage."""
    from mlops_template.serving.registry import register as stage

    registered = stage(read_params(params))
    verb = "registered" if registered.created else "already registered"
    typer.echo(f"{verb} {registered.tag} {registered.labels}")


app.add_typer(cli_drift.app)
app.add_typer(cli_deploy.app)
