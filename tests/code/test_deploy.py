"""Deploys to Kubernetes: the manifests, validated offline, and deploy / rollback / release.

No cluster exists here, so the cluster is the kubectl stand-in
(tests/workflows/standins/kubectl): rendering runs the real kubectl's kustomize, and
apply / get / rollout status record and answer from a JSON file. Test names say so.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from mlops_template import deploy
from mlops_template.serving.smoke import SmokeResult

STANDIN = Path(__file__).resolve().parents[1] / "workflows" / "standins" / "kubectl" / "kubectl"
KUBERNETES_VERSION = "1.31"
SHA = "0123456789abcdef0123456789abcdef01234567"
pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (for its kustomize) is not installed")


def render(repo_root: Path, env: str) -> list[dict[str, Any]]:
    text = subprocess.run(
        ["kubectl", "kustomize", str(repo_root / "deploy" / "overlays" / env)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [doc for doc in yaml.safe_load_all(text) if doc]


@pytest.mark.parametrize("env", ["staging", "production"])
def test_the_overlays_are_valid_kubernetes_offline(repo_root: Path, env: str) -> None:
    documents = render(repo_root, env)
    assert {doc["kind"] for doc in documents} >= {"Deployment", "Service"}
    for doc in documents:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)  # raises on any schema error


@pytest.mark.parametrize("env", ["staging", "production"])
def test_the_service_runs_unprivileged_with_probes_and_resources(repo_root: Path, env: str) -> None:
    (deployment,) = [doc for doc in render(repo_root, env) if doc["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]
    assert container["image"] == deploy.PLACEHOLDER_IMAGE
    writable = {mount["mountPath"] for mount in container["volumeMounts"]}
    assert {"name": "BENTOML_HOME", "value": "/tmp/bentoml"} in container["env"]
    assert "/tmp" in writable
    assert deployment["metadata"]["namespace"] == f"mlops-{env}"


@pytest.fixture
def cluster(tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The kubectl stand-in as `kubectl`, recording into tmp_path; returns its state file."""
    monkeypatch.chdir(repo_root)
    monkeypatch.setenv("KUBECTL", str(STANDIN))
    monkeypatch.setenv("FAKE_KUBE_DIR", str(tmp_path / "cluster"))
    monkeypatch.delenv("FAKE_KUBE_FAIL_ROLLOUT", raising=False)
    return tmp_path / "cluster" / "state.json"


def images(state_file: Path, namespace: str) -> list[str]:
    history = json.loads(state_file.read_text())["history"]
    return [entry["images"][0] for entry in history if entry["namespace"] == namespace]


def live(state_file: Path, namespace: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(state_file.read_text())["objects"][
        f"Deployment/{namespace}/prediction-service"
    ]
    return document


def test_deploy_pins_the_image_and_records_the_one_it_replaces_kubectl_stand_in(cluster: Path) -> None:
    first = deploy.deploy("staging", f"ghcr.io/acme/svc:{'1' * 40}")
    second = deploy.deploy("staging", f"ghcr.io/acme/svc:{SHA}")
    assert first.previous is None
    assert second.previous == f"ghcr.io/acme/svc:{'1' * 40}"
    assert images(cluster, "mlops-staging") == [f"ghcr.io/acme/svc:{'1' * 40}", f"ghcr.io/acme/svc:{SHA}"]
    annotations = live(cluster, "mlops-staging")["metadata"]["annotations"]
    assert annotations[deploy.PREVIOUS_IMAGE] == f"ghcr.io/acme/svc:{'1' * 40}"
    calls = json.loads(cluster.read_text())["calls"]
    assert calls[-1][:5] == ["rollout", "status", "deployment/prediction-service", "--namespace", "mlops-staging"]


def test_rollback_returns_to_the_previous_image_kubectl_stand_in(cluster: Path) -> None:
    deploy.deploy("production", "ghcr.io/acme/svc:old")
    deploy.deploy("production", "ghcr.io/acme/svc:new")
    back = deploy.rollback("production")
    assert back.image == "ghcr.io/acme/svc:old"
    assert images(cluster, "mlops-production")[-1] == "ghcr.io/acme/svc:old"
    assert live(cluster, "mlops-production")["metadata"]["annotations"][deploy.PREVIOUS_IMAGE] == "ghcr.io/acme/svc:new"


def test_a_failing_production_smoke_test_rolls_back_and_fails_loudly_kubectl_stand_in(cluster: Path) -> None:
    """The production service never answers (nothing listens on the URL): real smoke test, stand-in cluster."""
    deploy.deploy("production", "ghcr.io/acme/svc:good")
    with pytest.raises(deploy.DeployError) as failure:
        deploy.release("production", f"ghcr.io/acme/svc:{SHA}", "http://127.0.0.1:9", smoke_wait=1)
    message = str(failure.value)
    assert "smoke test" in message
    assert "ROLLED BACK to ghcr.io/acme/svc:good" in message
    assert "/readyz unreachable" in message
    assert images(cluster, "mlops-production") == [
        "ghcr.io/acme/svc:good",
        f"ghcr.io/acme/svc:{SHA}",
        "ghcr.io/acme/svc:good",
    ]


def test_a_rollout_that_never_gets_ready_is_rolled_back_kubectl_stand_in(
    cluster: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy.deploy("staging", "ghcr.io/acme/svc:good")
    monkeypatch.setenv("FAKE_KUBE_FAIL_ROLLOUT", SHA)
    with pytest.raises(deploy.DeployError, match=r"rollout of .* failed.*ROLLED BACK to ghcr\.io/acme/svc:good"):
        deploy.release("staging", f"ghcr.io/acme/svc:{SHA}", "http://127.0.0.1:9", smoke_wait=1)
    assert images(cluster, "mlops-staging")[-1] == "ghcr.io/acme/svc:good"


def test_a_passing_smoke_test_keeps_the_new_image_kubectl_stand_in(cluster: Path) -> None:
    deploy.deploy("staging", "ghcr.io/acme/svc:good")
    passed = SmokeResult("http://svc", True, ["ok"])
    done = deploy.release("staging", f"ghcr.io/acme/svc:{SHA}", "http://svc", check=lambda url, **_: passed)
    assert done.deployed.previous == "ghcr.io/acme/svc:good"
    assert images(cluster, "mlops-staging")[-1] == f"ghcr.io/acme/svc:{SHA}"


def test_the_first_release_with_a_failing_smoke_test_says_there_is_nothing_to_roll_back_kubectl_stand_in(
    cluster: Path,
) -> None:
    with pytest.raises(deploy.DeployError, match="no previous image to roll back to"):
        deploy.release("staging", f"ghcr.io/acme/svc:{SHA}", "http://127.0.0.1:9", smoke_wait=1)


def test_unpinned_images_and_unknown_environments_are_refused(cluster: Path) -> None:
    with pytest.raises(deploy.DeployError, match="no tag or digest"):
        deploy.deploy("staging", "ghcr.io/acme/svc")
    with pytest.raises(deploy.DeployError, match="environments: production, staging"):
        deploy.deploy("qa", f"ghcr.io/acme/svc:{SHA}")
    with pytest.raises(deploy.DeployError, match="nothing is deployed"):
        deploy.rollback("production")


def test_the_release_command_exits_1_with_a_github_error_annotation_kubectl_stand_in(
    cluster: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy.deploy("production", "ghcr.io/acme/svc:good")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    mlops = str(Path(sys.executable).with_name("mlops"))
    args = ["release", "--env", "production", "--image", f"ghcr.io/acme/svc:{SHA}", "--url", "http://127.0.0.1:9"]
    result = subprocess.run([mlops, *args, "--smoke-wait", "1"], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "::error title=Deploy failed::production: the smoke test" in result.stdout
    assert "ROLLED BACK to ghcr.io/acme/svc:good" in result.stderr
    assert "Deploy failed" in summary.read_text()
