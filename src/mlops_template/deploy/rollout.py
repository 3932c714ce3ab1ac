"""Apply an environment's manifests, wait for the rollout, and roll the whole workload back.

What a rollback returns to is the last release that passed its smoke test: its rendered
manifests (every object, pinned image, probes, resources, replicas) are kept in a
ConfigMap next to the Deployment (`<name>-last-good`), written only after the smoke test
passed. So a failed release, even a failed first one, never becomes what a rollback goes
back to, and a bad manifest change (a probe path, resources) is undone along with the
image. The record lives in the cluster, so `make rollback` works from any laptop too.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from mlops_template.deploy.kubectl import DeployError, apply, as_list, get, kubectl, pods
from mlops_template.deploy.manifests import IMAGE, Manifests, Workload, render

ROLLOUT_TIMEOUT = "300s"
RECORD_KEY = "manifests.json"


class RolloutError(DeployError):
    """kubectl apply or the rollout failed; the message quotes the cluster and the pods."""


@dataclass(frozen=True)
class Good:
    """The last release that passed its smoke test in an environment."""

    image: str
    model_version: str | None
    recorded_at: str
    documents: list[dict[str, Any]]


def record_name(workload: Workload) -> str:
    return f"{workload.name}-last-good"


def last_good(workload: Workload) -> Good | None:
    found = get("configmap", record_name(workload), workload.namespace)
    if found is None:
        return None
    data = found.get("data", {})
    return Good(
        data.get("image", ""),
        data.get("model-version") or None,
        data.get("recorded-at", ""),
        json.loads(data.get(RECORD_KEY, "[]")),
    )


def record_good(manifests: Manifests) -> None:
    """Remember `manifests` as what a rollback returns to (call only after the smoke test passed)."""
    workload = manifests.workload
    record = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": record_name(workload),
            "namespace": workload.namespace,
            "labels": {"app.kubernetes.io/part-of": "mlops-template"},
            "annotations": {IMAGE: manifests.image},
        },
        "data": {
            "image": manifests.image,
            "model-version": manifests.model_version or "",
            "recorded-at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            RECORD_KEY: json.dumps(manifests.documents, sort_keys=True),
        },
    }
    apply(record)


def pod_problems(workload: Workload) -> list[str]:
    """Why pods are not ready, as the cluster says it (unschedulable, image pull, probes)."""
    problems = []
    try:
        found = pods(workload.namespace, workload.selector)
    except DeployError as exc:
        return [f"(could not list pods: {exc})"]
    for pod in found:
        name, status = pod["metadata"]["name"], pod.get("status", {})
        reasons = [
            f"{c.get('reason', '')}: {c.get('message', '')}".strip(": ")
            for c in status.get("conditions", [])
            if c.get("status") == "False" and c.get("message")
        ]
        for container in status.get("containerStatuses", []):
            waiting = container.get("state", {}).get("waiting")
            if waiting:
                reasons.append(f"{waiting.get('reason', '')}: {waiting.get('message', '')}".strip(": "))
        if reasons:
            problems.append(f"pod {name} ({status.get('phase', '?')}): " + "; ".join(reasons))
    return problems


def wait(workload: Workload) -> None:
    try:
        kubectl(
            "rollout", "status", f"deployment/{workload.name}", "--namespace", workload.namespace,
            f"--timeout={ROLLOUT_TIMEOUT}",
        )  # fmt: skip
    except DeployError as exc:
        labels = ",".join(f"{key}={value}" for key, value in sorted(workload.selector.items()))
        details = "".join(f"\n  {problem}" for problem in pod_problems(workload))
        hint = f"\n  more: kubectl --namespace {workload.namespace} describe pods --selector {labels}"
        raise RolloutError(f"{exc}{details}{hint}") from exc


def roll_out(documents: list[dict[str, Any]], workload: Workload) -> None:
    """Apply the objects (namespace first, as kustomize orders them) and wait until the pods are ready."""
    try:
        apply(as_list(documents))
    except DeployError as exc:
        raise RolloutError(str(exc)) from exc
    wait(workload)


@dataclass(frozen=True)
class Deployed:
    env: str
    manifests: Manifests
    previous: Good | None

    @property
    def image(self) -> str:
        return self.manifests.image


def deploy(env: str, image: str | None = None, model_version: str | None = None) -> Deployed:
    """Roll `image` (default: the image the overlay pins) out to `env` and wait. Records nothing:
    only a release whose smoke test passed becomes the last good one."""
    manifests = render(env).pinned(image, model_version)
    previous = last_good(manifests.workload)
    roll_out(manifests.documents, manifests.workload)
    return Deployed(env, manifests, previous)


def rollback(env: str) -> Deployed:
    """Re-apply the last good release's manifests (the whole workload, not only its image)."""
    workload = render(env).workload
    good = last_good(workload)
    if good is None:
        raise DeployError(
            f"{env}: no release has passed its smoke test in {workload.namespace} yet "
            f"(no ConfigMap {record_name(workload)}): nothing to roll back to"
        )
    roll_out(good.documents, workload)
    manifests = Manifests(env, good.documents, workload)
    return Deployed(env, manifests, good)
