"""The `mlops` command: one subcommand per pipeline stage and task.

dvc.yaml and the Makefile call these; each reads params.yaml and calls one function.
Errors a person can fix are printed as one clear message with exit code 1, never a
traceback. Heavy imports happen inside the commands, so `mlops --help` is instant.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from mlops_template.errors import UserError
from mlops_template.params import DEFAULT_PARAMS, Params, ParamsError, load_params

app = typer.Typer(add_completion=False, no_args_is_help=True, help="The MLOps template: pipeline stages and tasks.")

ParamsOption = Annotated[Path, typer.Option("--params", help="The params.yaml to read.")]
F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def user_errors(func: F) -> F:
    """Turn the errors a user can act on into a message and exit code 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (UserError, ParamsError, FileNotFoundError, ValueError) as exc:
            _fail(str(exc))

    return wrapper  # type: ignore[return-value]


def _params(path: Path) -> Params:
    return load_params(path)


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

    p = _params(params)
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

    p = _params(params)
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

    p = _params(params)
    report = stage.run(p, input_file)
    summary = report.to_markdown(p.validate_.summary_examples)
    if not report.passed:
        typer.echo(summary, err=True)
        _fail(f"the data gate failed; full report: {p.paths.validation_dir / 'raw.json'}")
    typer.echo(summary)


@app.command()
@user_errors
def prepare(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Stage prepare: clean the raw data and check it against the clean schema."""
    from mlops_template import prepare as stage

    report = stage.run(_params(params))
    cleaning = report.details["cleaning"]
    typer.echo(f"prepared {cleaning['rows_out']:,} rows from {cleaning['rows_in']:,}: {cleaning}")


@app.command()
@user_errors
def split(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Stage split: train and test files."""
    from mlops_template import split as stage

    n_train, n_test = stage.run(_params(params))
    typer.echo(f"split: {n_train:,} train rows, {n_test:,} test rows")


@app.command()
@user_errors
def train(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Stage train: fit the model pipeline and save it with its model card."""
    from mlops_template import train as stage

    card = stage.run(_params(params))
    typer.echo(f"trained {card.model_type} on {card.train_rows:,} rows (data md5 {card.data_md5})")


@app.command()
@user_errors
def evaluate(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Stage evaluate: metrics, plots, per-segment metrics and the model-quality gate."""
    from mlops_template import evaluate as stage

    gate = stage.run(_params(params))
    if not gate.passed:
        _fail(gate.message())
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
    from mlops_template.report.dvc_outputs import ReportError

    try:
        built = build(_params(params), base, PullRequest(pr_number, head_sha or None, run_url or None))
    except ReportError as exc:
        _fail(str(exc))
        return
    typer.echo(f"wrote {built.path} and {len(list(built.directory.glob('*.png')))} plots")
    typer.echo(
        "verdict: " + ("ready to merge" if built.verdict.passed else "not ready: " + "; ".join(built.verdict.reasons))
    )


@app.command("report-check")
@user_errors
def report_check(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Fail (exit 1) when the built report's verdict fails: the last step of the PR check."""
    from mlops_template.report.build import check

    verdict = check(_params(params).paths.report_dir)
    if not verdict.passed:
        _fail("the PR report's verdict is: not ready to merge\n- " + "\n- ".join(verdict.reasons))
    typer.echo("the PR report's verdict is: ready to merge")


class DriftSourceChoice(StrEnum):
    inference_log = "inference_log"
    file = "file"
    sample = "sample"


@app.command()
@user_errors
def register(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Save the trained model (paths.model_dir) into the BentoML model store, with its lineage."""
    from mlops_template.serving.registry import register as stage

    registered = stage(_params(params))
    verb = "registered" if registered.created else "already registered"
    typer.echo(f"{verb} {registered.tag} {registered.labels}")


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

    outcome = check.run(_params(params), source=source.value if source else None, file=current)
    color = {"drift": typer.colors.RED, "no drift": typer.colors.GREEN}.get(outcome.status, typer.colors.YELLOW)
    typer.secho(outcome.summary, fg=color, err=outcome.status == "could not check")
    typer.echo(f"report: {outcome.markdown_path} (machine-readable: {outcome.json_path})")
    code = outcome.exit_code
    if outcome.status == "drift" and not fail_on_drift:
        code = check.EXIT_NO_DRIFT
    raise typer.Exit(code=code)


class RetrainChoice(StrEnum):
    params = "params"
    yes = "yes"
    no = "no"


@app.command("drift-issue")
@user_errors
def drift_issue(
    params: ParamsOption = DEFAULT_PARAMS,
    report: Annotated[
        Path | None, typer.Option(help="drift.json to publish; default: paths.drift_dir/drift.json.")
    ] = None,
    run_url: Annotated[
        str | None, typer.Option(envvar="DRIFT_RUN_URL", help="Link to the workflow run (its artifact has the plots).")
    ] = None,
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
    from mlops_template.drift.sources import CannotCheckError

    p = _params(params)
    if retrain not in {"", *RetrainChoice}:
        _fail(f"--retrain must be one of params, yes, no (got {retrain!r})")
    try:
        document = check.read_result(report or p.paths.drift_dir / "drift.json")
        published = publish_result(p, document, run_url or None, retrain)
    except (CannotCheckError, GitHubError) as exc:
        _fail(str(exc))
    typer.echo(published.describe())


@app.command("drift-retrain")
@user_errors
def drift_retrain(
    params: ParamsOption = DEFAULT_PARAMS,
    base: Annotated[str, typer.Option(help="Branch the pull request targets.")] = "main",
    push: Annotated[bool, typer.Option(help="Push the branch and open the pull request (gh).")] = True,
    run_url: Annotated[str | None, typer.Option(envvar="DRIFT_RUN_URL", help="Link to the drift check's run.")] = None,
) -> None:
    """Retrain on the training data + the labelled current batch; commit on drift.retrain.branch and open its PR."""
    from mlops_template.drift import check
    from mlops_template.drift.github import GitHubError, open_retrain_pull_request
    from mlops_template.drift.retrain import RetrainError, pull_request_body, retrain
    from mlops_template.drift.sources import CannotCheckError
    from mlops_template.inference_log import now

    p = _params(params)
    branch = p.drift.retrain.branch
    try:
        result = retrain(p, now(), branch=branch, base=base, push=push)
        typer.echo(f"committed {result.commit[:12]} on {branch}: {result.rows_added:,} rows added from {result.source}")
        if push:
            summary = None
            if (p.paths.drift_dir / "drift.json").exists():
                summary = str(check.read_result(p.paths.drift_dir / "drift.json").get("summary"))
            title = f"Retrain after data drift ({result.rows_added:,} new rows)"
            body = pull_request_body(result, summary, run_url)
            typer.echo(open_retrain_pull_request(p, branch, base, title, body))
    except (RetrainError, GitHubError, CannotCheckError) as exc:
        _fail(str(exc))


@app.command()
@user_errors
def smoke(
    url: Annotated[str, typer.Option(help="The service's base URL.")] = "http://127.0.0.1:3000",
    wait: Annotated[float, typer.Option(help="Seconds to wait for /readyz (a fresh service is starting).")] = 60,
    expect_version: Annotated[str | None, typer.Option(help="Fail unless this model version answers.")] = None,
) -> None:
    """Smoke-test a running service: probes, one valid and one invalid request."""
    from mlops_template.serving.smoke import smoke as run_smoke

    result = run_smoke(url, wait_seconds=wait, expect_version=expect_version)
    typer.echo(result.message(), err=not result.passed)
    if not result.passed:
        raise typer.Exit(code=1)


EnvOption = Annotated[str, typer.Option("--env", help="The environment: a folder under deploy/overlays.")]


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
    from mlops_template.drift.github import GitHubError, keep_alive

    p = _params(params)
    try:
        typer.echo(keep_alive(p.drift.keepalive_after_days if after_days is None else after_days, workflow))
    except GitHubError as exc:
        _fail(str(exc))


ImageOption = Annotated[
    str | None, typer.Option("--image", help="The image pinned by digest; default: the one the overlay pins.")
]


@app.command()
@user_errors
def deploy(env: EnvOption, image: ImageOption = None) -> None:
    """Deploy an image to an environment with kubectl and wait for the rollout (no smoke test, nothing recorded)."""
    from mlops_template.deploy.rollout import deploy as roll_out

    done = roll_out(env, image)
    typer.echo(f"{env}: {done.manifests.workload.namespace}/{done.manifests.workload.name} runs {done.image}")


@app.command()
@user_errors
def rollback(env: EnvOption) -> None:
    """Put an environment back on its last release that passed the smoke test: the whole workload."""
    from mlops_template.deploy.rollout import rollback as roll_back

    done = roll_back(env)
    typer.echo(f"{env}: rolled back to {done.image} (released {done.previous.recorded_at if done.previous else '?'})")


@app.command()
@user_errors
def release(
    env: EnvOption,
    image: ImageOption = None,
    url: Annotated[str, typer.Option(help="The service's public URL; empty: through kubectl port-forward.")] = "",
    expect_version: Annotated[str, typer.Option(help="The model version the image must answer with.")] = "",
    smoke_wait: Annotated[float, typer.Option(help="Seconds to wait for /readyz.")] = 60,
) -> None:
    """Deploy, smoke-test with the expected model version, keep it or roll back (then exit 1)."""
    from mlops_template.deploy import release as rel
    from mlops_template.deploy import summary
    from mlops_template.deploy.kubectl import DeployError

    try:
        done = rel.release(env, image, url=url, expect_version=expect_version, smoke_wait=smoke_wait)
    except DeployError as exc:
        summary.failed(f"Release to {env} failed", str(exc))
        raise
    typer.echo(summary.released(env, done.deployed.image, done.smoke.message(), done.pull_secret.message))


@app.command()
@user_errors
def kubeconfig() -> None:
    """Connect kubectl to the environment's cluster (EKS_CLUSTER via aws, or KUBECONFIG_DATA); fails if neither."""
    from mlops_template.deploy.cluster_login import connect_kubectl

    typer.echo(connect_kubectl())


@app.command("deploy-ready")
@user_errors
def deploy_ready(
    env: EnvOption,
    image: Annotated[str, typer.Option(help="The image built for this release, for the summary.")] = "",
) -> None:
    """Is a cluster configured for ENV? Step outputs ready/method; a summary of what to set; exit 1 if half set."""
    from mlops_template.deploy import cluster_login, summary

    found = cluster_login.access(env)
    summary.write_outputs({"ready": str(found.ready).lower(), "method": found.method})
    if found.problems:
        _fail(f"{env}: the cluster is only half configured: " + "; ".join(found.problems))
    if found.ready:
        typer.echo(f"{env}: cluster configured ({found.method})")
        return
    text = cluster_login.not_configured(env, image or None)
    summary.write_summary(text)
    typer.echo(text)  # the log says it too (act, for one, shows no job summary)


@app.command()
@user_errors
def promote(
    image: Annotated[str, typer.Option(help="The image staging released, pinned by digest (name@sha256:...).")],
    model_version: Annotated[str, typer.Option(help="The model version it answers with.")],
    env: Annotated[str, typer.Option("--env", help="The environment to promote to.")] = "production",
    push: Annotated[bool, typer.Option(help="Push promote/ENV and open or update its pull request (gh).")] = True,
    run_url: Annotated[str, typer.Option(envvar="DEPLOY_RUN_URL", help="Link to the staging release.")] = "",
) -> None:
    """Open (or update) the pull request that pins ENV's overlay to IMAGE; merging it deploys."""
    from mlops_template.deploy.promote import promote as open_promotion

    typer.echo(open_promotion(env, image, model_version, push=push, run_url=run_url or None).describe())


def main() -> None:  # pragma: no cover
    sys.exit(app())
