"""`mlops` commands that deploy and check the running service: smoke, deploy, rollback, release, kubeconfig.

They are part of the one `mlops` app (`cli.py` adds them); kept in their own module so
that the deploy side can change them without touching the pipeline's commands.
"""

from __future__ import annotations

from typing import Annotated

import typer

from mlops_template.cli_common import user_errors

app = typer.Typer()


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
def deploy(
    env: EnvOption,
    image: Annotated[str, typer.Option(help="The image, pinned: <registry>/<name>:<commit sha>.")],
) -> None:
    """Deploy an image to an environment with kubectl and wait for the rollout."""
    from mlops_template import deploy as kube

    deployed = kube.deploy(env, image)
    typer.echo(
        f"{env}: {deployed.workload.namespace}/{deployed.workload.name} runs {image} (before: {deployed.previous})"
    )


@app.command()
@user_errors
def rollback(
    env: EnvOption,
    to: Annotated[
        str | None, typer.Option(help="The image to go back to; default: the one before the last deploy.")
    ] = None,
) -> None:
    """Put an environment back on the image it ran before the last deploy."""
    from mlops_template import deploy as kube

    deployed = kube.rollback(env, to)
    typer.echo(f"{env}: rolled back to {deployed.image} (from {deployed.previous})")


@app.command()
@user_errors
def release(
    env: EnvOption,
    image: Annotated[str, typer.Option(help="The image, pinned: <registry>/<name>:<commit sha>.")],
    url: Annotated[str, typer.Option(help="Where the environment's service answers, for the smoke test.")],
    smoke_wait: Annotated[float, typer.Option(help="Seconds to wait for /readyz.")] = 60,
) -> None:
    """Deploy, smoke-test, and roll back to the previous image if either fails (then exit 1)."""
    from mlops_template import deploy as kube

    try:
        done = kube.release(env, image, url, smoke_wait=smoke_wait)
    except kube.DeployError as exc:
        kube.announce_failure(str(exc))
        raise
    typer.echo(done.smoke.message())
    typer.echo(f"{env}: released {image} (before: {done.deployed.previous})")


@app.command()
@user_errors
def kubeconfig() -> None:
    """Connect kubectl to the environment's cluster (EKS_CLUSTER via aws, or KUBECONFIG_DATA)."""
    from mlops_template import deploy as kube

    typer.echo(kube.connect_kubectl())
