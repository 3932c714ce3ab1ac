"""Deploying the service image to Kubernetes, checking it, and taking it back.

`deploy` renders `deploy/overlays/<env>` with kustomize (kubectl's built-in), pins the
Deployment to the image it is given (`<registry>/<name>:<commit sha>`), records the image
it replaces in an annotation on the Deployment, applies the result and waits for the
rollout. `rollback` deploys the recorded previous image the same way. `release` is what
the deploy workflow runs for each environment: deploy, smoke test, and when either fails,
roll back to the previous image and fail with a message that says so.

Only kubectl talks to the cluster, with the context and credentials of its environment
(KUBECONFIG, or a cloud login step before it), so the same commands work from a laptop,
from CI and against the tests' stand-in kubectl; `KUBECTL` names another binary.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlops_template.errors import UserError
from mlops_template.serving.smoke import SmokeResult, smoke

DEPLOY_DIR = Path("deploy")
PLACEHOLDER_IMAGE = "mlops-template-service"  # the image name in deploy/base, replaced at deploy time
PREVIOUS_IMAGE = "mlops-template/previous-image"
CHANGE_CAUSE = "kubernetes.io/change-cause"
ROLLOUT_TIMEOUT = "300s"


class DeployError(UserError):
    """A deploy, rollback or release that did not go through; the message says what happened."""


@dataclass(frozen=True)
class Workload:
    namespace: str
    name: str
    container: str


@dataclass(frozen=True)
class Deployed:
    env: str
    workload: Workload
    image: str
    previous: str | None


def kubectl(*args: str, stdin: str | None = None) -> str:
    binary = os.environ.get("KUBECTL", "kubectl")
    try:
        result = subprocess.run(  # noqa: S603 (fixed binary, arguments built here)
            [binary, *args], input=stdin, capture_output=True, text=True, check=False, timeout=600
        )
    except FileNotFoundError as exc:
        raise DeployError(f"{binary}: not found; install kubectl or set KUBECTL") from exc
    if result.returncode != 0:
        raise DeployError(f"kubectl {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
    return result.stdout


def overlay(env: str) -> Path:
    path = DEPLOY_DIR / "overlays" / env
    if not (path / "kustomization.yaml").exists():
        known = sorted(p.name for p in (DEPLOY_DIR / "overlays").iterdir() if p.is_dir())
        raise DeployError(f"no overlay {path}; environments: {', '.join(known)}")
    return path


@dataclass(frozen=True)
class Manifests:
    """An environment's rendered manifests and the one Deployment that runs the service image."""

    env: str
    documents: list[dict[str, Any]]
    workload: Workload

    def pinned(self, image: str, previous: str | None) -> str:
        """The manifests with the service image pinned and the image it replaces recorded,
        as one JSON `List` for `kubectl apply` (JSON, so that any tool can read what is applied)."""
        documents = copy.deepcopy(self.documents)
        for doc in documents:
            if doc.get("kind") == "Deployment" and doc["metadata"]["name"] == self.workload.name:
                for container in doc["spec"]["template"]["spec"]["containers"]:
                    if container["name"] == self.workload.container:
                        container["image"] = image
                annotations = doc["metadata"].setdefault("annotations", {})
                annotations[CHANGE_CAUSE] = f"mlops deploy {image}"
                if previous:
                    annotations[PREVIOUS_IMAGE] = previous
        return json.dumps({"apiVersion": "v1", "kind": "List", "items": documents}, indent=1)


def render(env: str) -> Manifests:
    """`kubectl kustomize deploy/overlays/<env>`, and which Deployment carries the service image."""
    path = overlay(env)
    documents = [doc for doc in yaml.safe_load_all(kubectl("kustomize", str(path))) if doc]
    workloads = [
        Workload(doc["metadata"].get("namespace", "default"), doc["metadata"]["name"], container["name"])
        for doc in documents
        if doc.get("kind") == "Deployment"
        for container in doc["spec"]["template"]["spec"]["containers"]
        if container["image"].split(":")[0] == PLACEHOLDER_IMAGE
    ]
    if len(workloads) != 1:
        raise DeployError(
            f"{path}: expected one Deployment container with image {PLACEHOLDER_IMAGE}, found {workloads}"
        )
    return Manifests(env, documents, workloads[0])


def live(workload: Workload) -> dict[str, Any] | None:
    """The Deployment as the cluster has it, or None before the first deploy."""
    try:
        text = kubectl("get", "deployment", workload.name, "--namespace", workload.namespace, "--output", "json")
    except DeployError as exc:
        if "NotFound" in str(exc):
            return None
        raise
    document: dict[str, Any] = json.loads(text)
    return document


def image_of(deployment: dict[str, Any] | None, container: str) -> str | None:
    if deployment is None:
        return None
    for spec in deployment["spec"]["template"]["spec"]["containers"]:
        if spec["name"] == container:
            return str(spec["image"])
    return None


def recorded_previous(deployment: dict[str, Any] | None) -> str | None:
    if deployment is None:
        return None
    previous = deployment["metadata"].get("annotations", {}).get(PREVIOUS_IMAGE)
    return str(previous) if previous else None


class RolloutError(DeployError):
    """kubectl apply or the rollout failed; `previous` is what ran before."""

    def __init__(self, message: str, previous: str | None) -> None:
        super().__init__(message)
        self.previous = previous


def apply(manifests: Manifests, image: str, previous: str | None) -> Deployed:
    workload = manifests.workload
    try:
        kubectl("apply", "--filename", "-", stdin=manifests.pinned(image, previous))
        kubectl(
            "rollout", "status", f"deployment/{workload.name}", "--namespace", workload.namespace,
            f"--timeout={ROLLOUT_TIMEOUT}",
        )  # fmt: skip
    except DeployError as exc:
        raise RolloutError(f"{manifests.env}: the rollout of {image} failed: {exc}", previous) from exc
    return Deployed(manifests.env, workload, image, previous)


def deploy(env: str, image: str) -> Deployed:
    """Roll `image` out to `env`; the image it replaces is recorded for `rollback`."""
    if ":" not in image.rsplit("/", 1)[-1] and "@" not in image:
        raise DeployError(f"{image!r} has no tag or digest: deploy an image pinned by commit SHA")
    manifests = render(env)
    current = live(manifests.workload)
    running = image_of(current, manifests.workload.container)
    # Re-deploying what runs keeps the older previous image, so a rollback still has somewhere to go.
    previous = recorded_previous(current) if running == image else running
    return apply(manifests, image, previous)


def rollback(env: str, to: str | None = None) -> Deployed:
    """Put `env` back on `to`, or on the image it ran before the last deploy."""
    manifests = render(env)
    current = live(manifests.workload)
    if current is None:
        workload = manifests.workload
        raise DeployError(f"{env}: nothing is deployed ({workload.namespace}/{workload.name}): nothing to roll back")
    target = to or recorded_previous(current)
    if not target:
        raise DeployError(f"{env}: the Deployment records no previous image ({PREVIOUS_IMAGE}); pass the image to use")
    return apply(manifests, target, image_of(current, manifests.workload.container))


@dataclass(frozen=True)
class Release:
    deployed: Deployed
    smoke: SmokeResult


def release(
    env: str, image: str, url: str, *, smoke_wait: float = 60, check: Callable[..., SmokeResult] = smoke
) -> Release:
    """Deploy, smoke-test, and roll back to the previous image when the rollout or the smoke test fails."""
    try:
        deployed = deploy(env, image)
    except RolloutError as exc:
        raise DeployError(f"{exc}{_undo(env, exc.previous)}") from exc
    result = check(url, wait_seconds=smoke_wait)
    if not result.passed:
        raise DeployError(f"{env}: the smoke test of {image} failed{_undo(env, deployed.previous)}\n{result.message()}")
    return Release(deployed, result)


def _undo(env: str, previous: str | None) -> str:
    """Roll back, and say what happened for the error message."""
    if not previous:
        return "; there is no previous image to roll back to, so the environment is left as it is"
    try:
        rollback(env, to=previous)
    except DeployError as exc:
        return f"; ROLLING BACK to {previous} FAILED too: {exc}"
    return f"; ROLLED BACK to {previous}"


def connect_kubectl() -> str:
    """Give kubectl the environment's cluster: `EKS_CLUSTER` through the AWS CLI (after the
    workflow's OIDC login), else `KUBECONFIG_DATA` (a base64 kubeconfig from an environment
    secret) written to kubectl's default config, else leave kubectl's own configuration."""
    cluster = os.environ.get("EKS_CLUSTER")
    if cluster:
        region = os.environ.get("AWS_REGION", "us-east-1")
        aws = ["aws", "eks", "update-kubeconfig", "--name", cluster, "--region", region]
        if subprocess.run(aws, check=False, timeout=120).returncode != 0:  # noqa: S603 (fixed command)
            raise DeployError(f"aws eks update-kubeconfig for {cluster} ({region}) failed; is the OIDC role allowed?")
        return f"kubectl uses EKS cluster {cluster} ({region})"
    data = os.environ.get("KUBECONFIG_DATA")
    if data:
        config = Path.home() / ".kube" / "config"
        config.parent.mkdir(parents=True, exist_ok=True)
        try:
            text = base64.b64decode(data, validate=True)
        except ValueError as exc:
            raise DeployError("KUBECONFIG_DATA is not base64: store `base64 -w0 kubeconfig` in the secret") from exc
        config.touch(mode=0o600)
        config.write_bytes(text)
        return f"kubectl uses the kubeconfig from KUBECONFIG_DATA ({config})"
    return "neither EKS_CLUSTER nor KUBECONFIG_DATA is set: kubectl keeps its own configuration"


def announce_failure(message: str) -> None:
    """Make a failed release loud on GitHub: an error annotation and the job summary."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return
    print(f"::error title=Deploy failed::{message.splitlines()[0]}", flush=True)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with Path(summary).open("a", encoding="utf-8") as handle:
            handle.write(f"## Deploy failed\n\n```\n{message}\n```\n")
