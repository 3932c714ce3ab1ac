"""The image pull secret: a new GHCR package is private, so nodes need credentials to pull.

The Deployment references the secret by name (`imagePullSecrets` in deploy/base). When a
token is given (`REGISTRY_PULL_TOKEN`, e.g. a classic GitHub token with `read:packages`),
every deploy creates or refreshes it in the environment's namespace, so a rotated token
reaches the cluster with the next release. Without a token an existing secret is used as
it is; with neither, the image must be public, and the release says so before it waits.
The token is sent on kubectl's stdin, never on a command line, and never stored with the
release record.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from mlops_template.deploy.kubectl import apply, as_list, get
from mlops_template.deploy.manifests import Manifests

DOCKER_HUB = "docker.io"


def registry_of(image: str) -> str:
    """`ghcr.io/acme/svc@sha256:…` → `ghcr.io`; a name without a registry host is Docker Hub's."""
    first = image.split("/", 1)[0]
    if "/" in image and ("." in first or ":" in first or first == "localhost"):
        return first
    return DOCKER_HUB


def secret_document(name: str, namespace: str, server: str, user: str, token: str) -> dict[str, Any]:
    """A `kubernetes.io/dockerconfigjson` Secret, as `kubectl create secret docker-registry` makes it."""
    auth = base64.b64encode(f"{user}:{token}".encode()).decode()
    config = {"auths": {server: {"username": user, "password": token, "auth": auth}}}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/dockerconfigjson",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/part-of": "mlops-template"}},
        "data": {".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()},
    }


@dataclass(frozen=True)
class PullSecret:
    name: str | None
    message: str
    missing: bool = False


def ensure(manifests: Manifests, token: str | None, user: str | None) -> PullSecret:
    """Create or refresh the referenced pull secret from `token`, else check that it exists."""
    names = manifests.pull_secrets
    if not names:
        return PullSecret(None, "the Deployment references no image pull secret: the image must be public")
    name, namespace = names[0], manifests.workload.namespace
    server = registry_of(manifests.image)
    if token:
        secret = secret_document(name, namespace, server, user or "token", token)
        apply(as_list([*manifests.namespaces, secret]))  # the namespace first: a first deploy has none
        return PullSecret(name, f"refreshed the image pull secret {namespace}/{name} for {server}")
    if get("secret", name, namespace) is not None:
        return PullSecret(name, f"uses the existing image pull secret {namespace}/{name}")
    return PullSecret(
        name,
        f"no image pull secret {namespace}/{name} and no REGISTRY_PULL_TOKEN to create it: nodes pull "
        f"{manifests.image} without credentials, which works only if the package is public "
        "(a new GHCR package is private; docs/deploy.md, 'Image pull secret')",
        missing=True,
    )
