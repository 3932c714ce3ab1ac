"""A release: deploy, smoke-test the new pods, then keep it or roll the whole workload back.

The smoke test always asks for the model version the image carries (the build's, or the
one production's overlay was promoted with), so an old pod that still answers cannot pass
it. With a public URL (STAGING_URL / PRODUCTION_URL) the test goes there; without one it
goes through `kubectl port-forward` to a ready pod of the new image, which reaches a
ClusterIP service from any runner that reaches the API server. Only a release that passed
becomes the last good one, the one a later rollback returns to.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mlops_template.deploy import pull_secret, summary
from mlops_template.deploy.kubectl import DeployError, pods, port_forward
from mlops_template.deploy.manifests import Manifests, render
from mlops_template.deploy.rollout import Deployed, Good, RolloutError, last_good, record_good, roll_out, rollback
from mlops_template.deploy.smoke import SmokeResult, smoke

Check = Callable[..., SmokeResult]


@dataclass(frozen=True)
class Release:
    deployed: Deployed
    smoke: SmokeResult
    pull_secret: pull_secret.PullSecret


def _ready(pod: dict[str, Any], image: str, container: str) -> bool:
    status = pod.get("status", {})
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions", []))
    images = {c["name"]: c["image"] for c in pod["spec"]["containers"]}
    return (
        ready and status.get("phase") == "Running" and not pod["metadata"].get("deletionTimestamp")
        and images.get(container) == image
    )  # fmt: skip


def new_pod(manifests: Manifests) -> str:
    """A ready pod of the new image: a port-forward to the Service could land on an old pod
    that is still terminating."""
    workload = manifests.workload
    for pod in pods(workload.namespace, workload.selector):
        if _ready(pod, manifests.image, workload.container):
            return str(pod["metadata"]["name"])
    raise DeployError(f"no ready pod in {workload.namespace} runs {manifests.image}")


def smoke_new_pods(manifests: Manifests, url: str | None, expected: str, wait: float, check: Check) -> SmokeResult:
    if url:
        return check(url, wait_seconds=wait, expect_version=expected)
    try:
        pod = new_pod(manifests)
        with port_forward(f"pod/{pod}", manifests.workload.namespace, manifests.workload.port) as local:
            result = check(local, wait_seconds=wait, expect_version=expected)
    except DeployError as exc:
        return SmokeResult(f"pod of {manifests.image} (port-forward)", False, [], [str(exc)])
    return SmokeResult(f"{result.url} (port-forward to {pod})", result.passed, result.checks, result.failures,
                       result.model_version)  # fmt: skip


def _undo(env: str, previous: Good | None) -> str:
    """Roll back, and say what happened, for the error message."""
    if previous is None:
        return (
            f"; no release has passed a smoke test in {env} before, so there is nothing to roll back to: "
            "the failed release stays in place for inspection and is NOT recorded as good"
        )
    try:
        rollback(env)
    except DeployError as exc:
        return f"; ROLLING BACK to {previous.image} FAILED too: {exc}"
    return f"; ROLLED BACK to {previous.image} (the whole workload as it was released at {previous.recorded_at})"


def release(
    env: str,
    image: str | None = None,
    *,
    url: str | None = None,
    expect_version: str | None = None,
    smoke_wait: float = 60,
    check: Check = smoke,
) -> Release:
    """Deploy `image` (default: the overlay's pinned image), smoke-test it, keep it or roll back.
    The pull secret's token comes from `REGISTRY_PULL_TOKEN` (and `REGISTRY_PULL_USER`)."""
    manifests = render(env).pinned(image, expect_version)
    expected = manifests.model_version
    if not expected:
        raise DeployError(
            f"{env}: no model version to expect: pass --expect-version (the build's build/model-version), "
            "or promote the image with its version (`mlops promote`)"
        )
    if url and not url.startswith(("http://", "https://")):
        raise DeployError(f"{url!r} is not an http(s) URL; leave it empty to smoke-test through kubectl port-forward")
    secret = pull_secret.ensure(
        manifests, os.environ.get("REGISTRY_PULL_TOKEN") or None, os.environ.get("REGISTRY_PULL_USER") or None
    )
    if secret.missing:
        summary.warn("Image pull secret", secret.message)
    previous = last_good(manifests.workload)
    try:
        roll_out(manifests.documents, manifests.workload)
    except RolloutError as exc:
        raise DeployError(f"{env}: the rollout of {manifests.image} failed{_undo(env, previous)}\n{exc}") from exc
    result = smoke_new_pods(manifests, url, expected, smoke_wait, check)
    if not result.passed:
        raise DeployError(
            f"{env}: the smoke test of {manifests.image} failed{_undo(env, previous)}\n{result.message()}"
        )
    record_good(manifests)
    return Release(Deployed(env, manifests, previous), result, secret)
