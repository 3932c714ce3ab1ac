"""An environment's manifests: `deploy/overlays/<env>` rendered by kustomize (kubectl's own),
and the one Deployment container that runs the service image.

The base names the image `mlops-template-service`, a placeholder. Staging is pinned at
deploy time to the image it is given (by digest from CI); production's overlay pins the
digest itself (`images:`, set by the promotion pull request), so what production runs is
in git. The model version the image must answer with travels as an annotation on the
Deployment (`mlops-template/model-version`), so a smoke test can refuse an old pod.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from mlops_template.deploy.kubectl import DeployError, kubectl

DEPLOY_DIR = Path("deploy")
PLACEHOLDER_IMAGE = "mlops-template-service"
SERVICE_CONTAINER = "service"
MODEL_VERSION = "mlops-template/model-version"
IMAGE = "mlops-template/image"
CHANGE_CAUSE = "kubernetes.io/change-cause"
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def has_digest(image: str) -> bool:
    return bool(_DIGEST.search(image))


def check_pinned(image: str) -> None:
    """An image a cluster will run: with a tag or a digest, never the placeholder or `latest`."""
    reference = image.split("@", maxsplit=1)[0]
    tag = reference.rsplit("/", 1)[-1].partition(":")[2]
    if reference.split(":", maxsplit=1)[0] == PLACEHOLDER_IMAGE:
        raise DeployError(f"{image!r} is the manifests' placeholder: give the image pushed by the build")
    if not has_digest(image) and (not tag or tag == "latest"):
        raise DeployError(f"{image!r} has no digest or fixed tag: deploy an image pinned by digest (or commit SHA)")


def overlay(env: str) -> Path:
    path = DEPLOY_DIR / "overlays" / env
    if not (path / "kustomization.yaml").exists():
        known = sorted(p.name for p in (DEPLOY_DIR / "overlays").iterdir() if p.is_dir())
        raise DeployError(f"no overlay {path}; environments: {', '.join(known)}")
    return path


@dataclass(frozen=True)
class Workload:
    """Where the service runs: its Deployment, container, pod labels and the port it serves on."""

    namespace: str
    name: str
    container: str
    selector: dict[str, str]
    port: int


@dataclass(frozen=True)
class Manifests:
    env: str
    documents: list[dict[str, Any]]
    workload: Workload

    def _deployment(self, documents: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return next(
            doc
            for doc in (self.documents if documents is None else documents)
            if doc.get("kind") == "Deployment" and doc["metadata"]["name"] == self.workload.name
        )

    def _container(self, deployment: dict[str, Any]) -> dict[str, Any]:
        containers = deployment["spec"]["template"]["spec"]["containers"]
        return next(c for c in containers if c["name"] == self.workload.container)

    @property
    def image(self) -> str:
        return str(self._container(self._deployment())["image"])

    @property
    def model_version(self) -> str | None:
        deployment = self._deployment()
        for found in (
            deployment["spec"]["template"].get("metadata", {}).get("annotations", {}),
            deployment["metadata"].get("annotations", {}),
        ):
            if found.get(MODEL_VERSION):
                return str(found[MODEL_VERSION])
        return None

    @property
    def namespaces(self) -> list[dict[str, Any]]:
        return [doc for doc in self.documents if doc.get("kind") == "Namespace"]

    @property
    def pull_secrets(self) -> list[str]:
        spec = self._deployment()["spec"]["template"]["spec"]
        return [str(ref["name"]) for ref in spec.get("imagePullSecrets", [])]

    def pinned(self, image: str | None = None, model_version: str | None = None) -> Manifests:
        """These manifests running `image` (default: what the overlay says), with the model
        version it must answer with and the image recorded as annotations."""
        documents = copy.deepcopy(self.documents)
        deployment = self._deployment(documents)
        container = self._container(deployment)
        container["image"] = image or container["image"]
        check_pinned(container["image"])
        version = model_version or self.model_version
        template = deployment["spec"]["template"].setdefault("metadata", {}).setdefault("annotations", {})
        annotations = deployment["metadata"].setdefault("annotations", {})
        annotations[CHANGE_CAUSE] = f"mlops release {container['image']}"
        annotations[IMAGE] = container["image"]
        if version:  # in the pod template too: pods say which model they must serve
            annotations[MODEL_VERSION] = template[MODEL_VERSION] = version
        return replace(self, documents=documents)


def render(env: str) -> Manifests:
    """`kubectl kustomize deploy/overlays/<env>`, and which Deployment carries the service image."""
    path = overlay(env)
    documents = [doc for doc in yaml.safe_load_all(kubectl("kustomize", str(path))) if doc]
    deployments = [
        doc
        for doc in documents
        if doc.get("kind") == "Deployment"
        and any(c["name"] == SERVICE_CONTAINER for c in doc["spec"]["template"]["spec"]["containers"])
    ]
    if len(deployments) != 1:
        names = [doc["metadata"]["name"] for doc in deployments]
        raise DeployError(f"{path}: expected one Deployment with a container {SERVICE_CONTAINER!r}, found {names}")
    deployment = deployments[0]
    namespace = deployment["metadata"].get("namespace")
    if not namespace:
        raise DeployError(f"{path}: set `namespace:` in its kustomization.yaml (one namespace per environment)")
    container = next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == SERVICE_CONTAINER)
    ports = container.get("ports", [])
    if not ports:
        raise DeployError(f"{path}: the {SERVICE_CONTAINER!r} container declares no port")
    selector = dict(deployment["spec"]["selector"]["matchLabels"])
    workload = Workload(
        namespace, deployment["metadata"]["name"], SERVICE_CONTAINER, selector, int(ports[0]["containerPort"])
    )
    return Manifests(env, documents, workload)
