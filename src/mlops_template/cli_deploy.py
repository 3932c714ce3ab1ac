"""`mlops` commands that deploy and check the running service: smoke, deploy-ready, kubeconfig,
deploy, release, rollback, promote. Part of the one `mlops` app (`cli.py` adds them); each
reads its options and calls one function of `mlops_template.deploy`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from mlops_template.cli_common import fail, user_errors

app = typer.Typer()

EnvOption = Annotated[str, typer.Option("--env", help="The environment: a folder under deploy/overlays.")]
ImageOption = Annotated[
    str | None, typer.Option("--image", help="The image pinned by digest; default: the one the overlay pins.")
]


@app.command()
@user_errors
def smoke(
    url: Annotated[str, typer.Option(help="The service's base URL.")] = "http://127.0.0.1:3000",
    wait: Annotated[float, typer.Option(help="Seconds to wait for /readyz (a fresh service is starting).")] = 60,
    expect_version: Annotated[str | None, typer.Option(help="Fail unless this model version answers.")] = None,
) -> None:
    """Smoke-test a running service: probes, one valid and one invalid request."""
    from mlops_template.deploy.smoke import smoke as run_smoke

    result = run_smoke(url, wait_seconds=wait, expect_version=expect_version)
    typer.echo(result.message(), err=not result.passed)
    if not result.passed:
        raise typer.Exit(code=1)


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
        fail(f"{env}: the cluster is only half configured: " + "; ".join(found.problems))
    if found.ready:
        typer.echo(f"{env}: cluster configured ({found.method})")
        return
    text = cluster_login.not_configured(env, image or None)
    summary.write_summary(text)
    typer.echo(text)  # the log says it too (act, for one, shows no job summary)


@app.command()
@user_errors
def kubeconfig() -> None:
    """Connect kubectl to the environment's cluster (EKS_CLUSTER via aws, or KUBECONFIG_DATA); fails if neither."""
    from mlops_template.deploy.cluster_login import connect_kubectl

    typer.echo(connect_kubectl())


@app.command()
@user_errors
def deploy(env: EnvOption, image: ImageOption = None) -> None:
    """Deploy an image to an environment with kubectl and wait for the rollout (no smoke test, nothing recorded)."""
    from mlops_template.deploy.rollout import deploy as roll_out

    done = roll_out(env, image)
    typer.echo(f"{env}: {done.manifests.workload.namespace}/{done.manifests.workload.name} runs {done.image}")


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
def rollback(env: EnvOption) -> None:
    """Put an environment back on its last release that passed the smoke test: the whole workload."""
    from mlops_template.deploy.rollout import rollback as roll_back

    done = roll_back(env)
    typer.echo(f"{env}: rolled back to {done.image} (released {done.previous.recorded_at if done.previous else '?'})")


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
