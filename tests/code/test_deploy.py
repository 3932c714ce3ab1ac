"""Deploys to Kubernetes: the manifests, validated offline, and release / rollback / promotion.

No cluster exists here, so the cluster is the kubectl stand-in
(tests/workflows/standins/kubectl): rendering runs the real kubectl's kustomize; apply, get,
rollout status and port-forward answer from a JSON file, as strictly as a fresh one-node
cluster would (namespaces must exist, pods must fit the node, a private GHCR image needs
its pull secret, probes must hit a path the service answers). The registry is the docker
stand-in's state. Test names say "stand-in" where one answers.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from mlops_template.deploy import cluster_login, promote, release, rollout
from mlops_template.deploy.kubectl import DeployError
from mlops_template.deploy.manifests import MODEL_VERSION, PLACEHOLDER_IMAGE, check_pinned, render
from mlops_template.deploy.smoke import SmokeResult, invalid_record, smoke

STANDINS = Path(__file__).resolve().parents[1] / "workflows" / "standins"
KUBERNETES_VERSION = "1.31"
REPO = "ghcr.io/acme/mlops-template/service"
VERSION = "churn:0123456789abcdef"
PULL_TOKEN = "ghp_fake_read_packages"  # noqa: S105 - not a secret: the stand-in only checks it arrives
pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (for its kustomize) is not installed")


def rendered(env: str, root: Path) -> list[dict[str, Any]]:
    text = subprocess.run(
        ["kubectl", "kustomize", str(root / "deploy" / "overlays" / env)], capture_output=True, text=True, check=True
    ).stdout
    return [doc for doc in yaml.safe_load_all(text) if doc]


def quantity(text: str) -> float:
    for suffix, factor in {"Mi": 2**20, "Gi": 2**30, "m": 1e-3}.items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


# --------------------------------------------------------------------------- manifests


@pytest.mark.parametrize("env", ["staging", "production"])
def test_the_overlays_are_valid_kubernetes_offline(repo_root: Path, env: str) -> None:
    documents = rendered(env, repo_root)
    assert documents[0]["kind"] == "Namespace"  # created first on an empty cluster
    assert {doc["kind"] for doc in documents} >= {"Namespace", "Deployment", "Service"}
    for doc in documents:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)  # raises on any schema error


@pytest.mark.parametrize("env", ["staging", "production"])
def test_the_service_runs_unprivileged_with_probes_a_pull_secret_and_requests_a_small_node_holds(
    repo_root: Path, env: str
) -> None:
    (namespace,) = [doc for doc in rendered(env, repo_root) if doc["kind"] == "Namespace"]
    (deployment,) = [doc for doc in rendered(env, repo_root) if doc["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert namespace["metadata"]["name"] == deployment["metadata"]["namespace"] == f"mlops-{env}"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert pod["imagePullSecrets"] == [{"name": "ghcr-pull"}]
    assert container["image"] == PLACEHOLDER_IMAGE
    requests = container["resources"]["requests"]
    # a 2 vCPU / 4 GiB node leaves about 1.9 CPUs and 3.3 GiB to pods: one pod must fit with room to spare
    assert quantity(requests["cpu"]) <= 1.0
    assert quantity(requests["memory"]) <= 2 * 2**30
    assert "memory" in container["resources"]["limits"]


def test_the_deployer_role_covers_what_a_release_applies_and_no_more_than_its_namespaces(repo_root: Path) -> None:
    setup = yaml.safe_load((repo_root / "deploy" / "setup" / "deployer.yaml").read_text())["items"]
    for doc in setup:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    (role,) = [d for d in setup if d["kind"] == "ClusterRole" and d["metadata"]["name"] == "mlops-template-deployer"]
    granted = {
        (group, resource) for rule in role["rules"] for group in rule["apiGroups"] for resource in rule["resources"]
    }
    plural = {"Deployment": ("apps", "deployments"), "Service": ("", "services"), "PodDisruptionBudget":
              ("policy", "poddisruptionbudgets"), "ServiceAccount": ("", "serviceaccounts")}  # fmt: skip
    for env in ("staging", "production"):
        documents = rendered(env, repo_root)
        namespaced = {plural[d["kind"]] for d in documents if d["kind"] != "Namespace"}
        assert namespaced | {("", "configmaps"), ("", "secrets"), ("", "pods/portforward")} <= granted
        (namespace,) = [d["metadata"]["name"] for d in documents if d["kind"] == "Namespace"]
        (own,) = [d for d in setup if d["kind"] == "ClusterRole" and d["metadata"]["name"].endswith(env)]
        assert own["rules"] == [
            {"apiGroups": [""], "resources": ["namespaces"], "resourceNames": [namespace], "verbs": ["get", "patch"]}
        ]
        bindings = [d for d in setup if d["kind"] == "RoleBinding" and d["metadata"]["namespace"] == namespace]
        assert [b["roleRef"]["name"] for b in bindings] == ["mlops-template-deployer"]


def test_images_without_a_digest_or_fixed_tag_are_refused() -> None:
    for image in (PLACEHOLDER_IMAGE, f"{REPO}", f"{REPO}:latest", f"{PLACEHOLDER_IMAGE}:abc"):
        with pytest.raises(DeployError):
            check_pinned(image)
    check_pinned(f"{REPO}@sha256:{'a' * 64}")
    check_pinned(f"{REPO}:0123abc")


# --------------------------------------------------------------------------- the stand-in cluster


def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A quiet local HTTP server answering with `handler`, at the URL yielded, until the test ends."""

    class Quiet(handler):  # type: ignore[valid-type,misc]
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def backend() -> Iterator[str]:
    """What a ready pod answers behind port-forward: /readyz 200, anything else 404."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/readyz" else 404)
            self.end_headers()

    yield from serving(Handler)


@pytest.fixture
def cluster(tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch, backend: str) -> Path:
    """An empty cluster (the kubectl stand-in), a kubeconfig for it, an empty registry, pods that
    answer like `backend`; cwd = a copy of deploy/ so tests may edit the manifests. Returns the
    cluster's state file."""
    work = tmp_path / "repo"
    shutil.copytree(repo_root / "deploy", work / "deploy")
    monkeypatch.chdir(work)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\ncurrent-context: stand-in\n")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("KUBECTL", str(STANDINS / "kubectl" / "kubectl"))
    monkeypatch.setenv("FAKE_KUBE_DIR", str(tmp_path / "cluster"))
    monkeypatch.setenv("FAKE_DOCKER_DIR", str(tmp_path / "docker"))
    monkeypatch.setenv("REGISTRY_PULL_TOKEN", PULL_TOKEN)
    monkeypatch.setenv("FAKE_KUBE_BACKENDS", f"mlops-staging={backend},mlops-production={backend}")
    for name in ("FAKE_KUBE_FAIL_ROLLOUT", "FAKE_KUBE_NODE", "REGISTRY_PULL_USER"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "state.json").write_text(json.dumps({"images": {}, "pushed": [], "calls": []}))
    return tmp_path / "cluster" / "state.json"


def pushed(tag: str) -> str:
    """Push `REPO:tag` to the stand-in registry; the image by digest."""
    path = Path(os.environ["FAKE_DOCKER_DIR"]) / "state.json"
    state = json.loads(path.read_text())
    digest = "sha256:" + (tag.encode().hex() * 64)[:64]
    state["pushed"].append({"ref": f"{REPO}:{tag}", "digest": digest})
    path.write_text(json.dumps(state))
    return f"{REPO}@{digest}"


def state(cluster: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(cluster.read_text())
    return document


def live(cluster: Path, namespace: str | None, kind: str = "Deployment", name: str = "prediction-service") -> Any:
    return state(cluster)["objects"].get(f"{kind}/{namespace or ''}/{name}")


def images(cluster: Path, namespace: str) -> list[str]:
    return [e["images"][0] for e in state(cluster)["history"] if e["namespace"] == namespace]


def passing(seen: list[str]) -> Any:
    def check(url: str, **options: Any) -> SmokeResult:
        seen.append(url)
        return SmokeResult(url, True, [f"reached, expected {options['expect_version']}"], [], options["expect_version"])

    return check


def failing(url: str, **_: Any) -> SmokeResult:
    return SmokeResult(url, False, [], ["valid record -> 500"])


def test_without_a_kubeconfig_kubectl_is_refused_like_a_real_one_stand_in(
    cluster: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    with pytest.raises(DeployError, match=r"localhost:8080 was refused"):
        rollout.deploy("staging", pushed("a1"))


def test_the_first_release_on_an_empty_cluster_creates_namespace_and_pull_secret_and_smokes_through_port_forward_stand_in(  # noqa: E501
    cluster: Path, backend: str
) -> None:
    image, seen = pushed("a1"), list[str]()
    done = release.release("staging", image, expect_version=VERSION, check=passing(seen))
    assert live(cluster, None, "Namespace", "mlops-staging") is not None
    secret = live(cluster, "mlops-staging", "Secret", "ghcr-pull")
    auths = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]
    assert auths["ghcr.io"]["password"] == PULL_TOKEN
    assert seen == [backend]  # the smoke test went through the port-forward to a pod of the new image
    assert "port-forward to prediction-service-" in done.smoke.url
    assert images(cluster, "mlops-staging") == [image]
    deployment = live(cluster, "mlops-staging")
    assert deployment["spec"]["template"]["metadata"]["annotations"][MODEL_VERSION] == VERSION
    good = rollout.last_good(render("staging").workload)
    assert good is not None
    assert (good.image, good.model_version) == (image, VERSION)
    assert PULL_TOKEN not in json.dumps(good.documents)  # the record keeps no credentials


def test_without_a_pull_secret_a_private_ghcr_image_never_pulls_and_nothing_is_recorded_stand_in(
    cluster: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REGISTRY_PULL_TOKEN")
    with pytest.raises(DeployError) as failure:
        release.release("staging", pushed("a1"), expect_version=VERSION, check=passing([]))
    message = str(failure.value)
    assert "ImagePullBackOff" in message
    assert "nothing to roll back to" in message
    assert "NOT recorded as good" in message
    assert rollout.last_good(render("staging").workload) is None
    with pytest.raises(DeployError, match="nothing to roll back to"):
        rollout.rollback("staging")


def test_a_pod_asking_more_than_a_node_has_is_never_scheduled_stand_in(cluster: Path) -> None:
    path = Path("deploy/overlays/staging/kustomization.yaml")
    path.write_text(path.read_text().replace("value: 250m", 'value: "2"'))
    with pytest.raises(DeployError, match=r"Insufficient cpu"):
        release.release("staging", pushed("a1"), expect_version=VERSION, check=passing([]))


def test_an_image_never_pushed_does_not_pull_stand_in(cluster: Path) -> None:
    with pytest.raises(DeployError, match=r"ErrImagePull.*never pushed"):
        rollout.deploy("staging", f"{REPO}@sha256:{'f' * 64}")


def test_a_failing_first_smoke_test_is_not_recorded_and_the_next_good_release_has_nothing_broken_behind_it_stand_in(
    cluster: Path,
) -> None:
    broken, fixed = pushed("b0"), pushed("f1")
    with pytest.raises(DeployError, match="nothing to roll back to"):
        release.release("staging", broken, expect_version=VERSION, check=failing)
    assert rollout.last_good(render("staging").workload) is None
    done = release.release("staging", fixed, expect_version=VERSION, check=passing([]))
    assert done.deployed.previous is None  # the broken first release never became "previous"
    good = rollout.last_good(render("staging").workload)
    assert good is not None
    assert good.image == fixed


def test_a_bad_manifest_change_is_rolled_back_whole_not_only_the_image_stand_in(cluster: Path) -> None:
    good_image, next_image = pushed("g1"), pushed("n2")
    release.release("production", good_image, expect_version=VERSION, check=passing([]))
    base = Path("deploy/base/deployment.yaml")
    base.write_text(base.read_text().replace("path: /readyz", "path: /ready"))  # a bad probe path
    with pytest.raises(DeployError) as failure:
        release.release("production", next_image, expect_version=VERSION, check=passing([]))
    assert f"ROLLED BACK to {good_image}" in str(failure.value)
    assert "HTTP probe failed with statuscode: 404" in str(failure.value)
    pod = live(cluster, "mlops-production")["spec"]["template"]["spec"]
    assert pod["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert pod["containers"][0]["image"] == good_image
    assert images(cluster, "mlops-production") == [good_image, next_image, good_image]


def test_a_failing_smoke_test_rolls_back_to_the_last_good_release_stand_in(cluster: Path) -> None:
    good_image, bad_image = pushed("g1"), pushed("b2")
    release.release("staging", good_image, expect_version=VERSION, check=passing([]))
    with pytest.raises(DeployError, match=rf"smoke test of {bad_image} failed; ROLLED BACK to {good_image}"):
        release.release("staging", bad_image, expect_version="churn:new", check=failing)
    assert images(cluster, "mlops-staging")[-1] == good_image
    good = rollout.last_good(render("staging").workload)
    assert good is not None
    assert good.image == good_image


def test_a_rollout_that_never_gets_ready_is_rolled_back_stand_in(
    cluster: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good_image, bad_image = pushed("g1"), pushed("crash")
    release.release("staging", good_image, expect_version=VERSION, check=passing([]))
    monkeypatch.setenv("FAKE_KUBE_FAIL_ROLLOUT", bad_image.split("@")[1])
    with pytest.raises(DeployError, match=r"rollout of .* failed; ROLLED BACK") as failure:
        release.release("staging", bad_image, expect_version=VERSION, check=passing([]))
    assert "CrashLoopBackOff" in str(failure.value)


def test_a_release_needs_the_model_version_to_expect(cluster: Path) -> None:
    with pytest.raises(DeployError, match="no model version to expect"):
        release.release("staging", pushed("a1"), check=passing([]))
    assert not Path(os.environ["FAKE_KUBE_DIR"], "state.json").exists()  # refused before touching the cluster


def test_production_releases_the_digest_and_version_its_promoted_overlay_pins_stand_in(cluster: Path) -> None:
    with pytest.raises(DeployError, match="placeholder"):
        release.release("production", check=passing([]))  # never promoted: nothing to release
    image = pushed("p1")
    path = Path("deploy/overlays/production/kustomization.yaml")
    path.write_text(promote.pin(path.read_text(), image, VERSION))
    seen: list[str] = []
    done = release.release("production", url="https://prod.example", check=passing(seen))
    assert done.deployed.image == image
    assert seen == ["https://prod.example"]
    assert images(cluster, "mlops-production") == [image]
    assert len(live(cluster, "mlops-production")["spec"]["template"]["spec"]["containers"]) == 1


# --------------------------------------------------------------------------- the smoke test's version


@pytest.fixture
def old_pod() -> Iterator[str]:
    """A service that still answers with the previous model."""

    class Handler(BaseHTTPRequestHandler):
        def answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self.answer(200, {})

        def do_POST(self) -> None:
            record = json.loads(self.rfile.read(int(self.headers["content-length"])))
            bad, field = invalid_record()
            if record == bad:
                self.answer(400, {"error": f"invalid {field}"})
            else:
                self.answer(200, {"probability": 0.25, "model_version": "churn:old"})

    yield from serving(Handler)


def test_an_old_pod_cannot_pass_the_smoke_test_of_a_new_version(old_pod: str) -> None:
    result = smoke(old_pod, wait_seconds=2, expect_version="churn:new")
    assert not result.passed
    assert "model version is churn:old, expected churn:new" in result.message()
    assert smoke(old_pod, wait_seconds=2, expect_version="churn:old").model_version == "churn:old"


# --------------------------------------------------------------------------- cluster configuration


def mlops(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    binary = str(Path(sys.executable).with_name("mlops"))
    return subprocess.run([binary, *args], capture_output=True, text=True, check=False, env=env, cwd=cwd)


def bare_env(tmp_path: Path, **values: str) -> dict[str, str]:
    keep = ("PATH", "LANG", "SYSTEMROOT")
    outputs, summary = tmp_path / "outputs", tmp_path / "summary.md"
    return {k: v for k, v in os.environ.items() if k in keep} | {
        "HOME": str(tmp_path / "home"),
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
        **values,
    }


def test_make_kubeconfig_fails_clearly_when_nothing_is_configured(tmp_path: Path, repo_root: Path) -> None:
    result = mlops("kubeconfig", env=bare_env(tmp_path), cwd=repo_root)
    assert result.returncode == 1
    assert "no cluster configured: set EKS_CLUSTER" in result.stderr
    assert "KUBECONFIG_DATA" in result.stderr


def test_deploy_ready_says_what_to_configure_when_nothing_is(tmp_path: Path) -> None:
    result = mlops("deploy-ready", "--env", "staging", "--image", f"{REPO}@sha256:{'a' * 64}", env=bare_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "outputs").read_text() == "ready=false\nmethod=none\n"
    summary = (tmp_path / "summary.md").read_text()
    assert "Staging: not deployed, no cluster is configured" in summary
    for name in ("EKS_CLUSTER", "AWS_REGION", "DEPLOY_STAGING_ROLE_ARN", "KUBECONFIG_DATA", "REGISTRY_PULL_TOKEN"):
        assert f"`{name}`" in summary
    assert "repo:<owner>/<repo>:environment:staging" in summary


@pytest.mark.parametrize(
    ("values", "ready", "method"),
    [
        ({"KUBECONFIG_DATA": base64.b64encode(b"apiVersion: v1").decode()}, "true", "kubeconfig"),
        ({"EKS_CLUSTER": "prod", "DEPLOY_ROLE_ARN": "arn:aws:iam::1:role/deploy"}, "true", "eks"),
    ],
)
def test_deploy_ready_with_a_cluster(tmp_path: Path, values: dict[str, str], ready: str, method: str) -> None:
    result = mlops("deploy-ready", "--env", "production", env=bare_env(tmp_path, **values))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "outputs").read_text() == f"ready={ready}\nmethod={method}\n"
    assert not (tmp_path / "summary.md").exists()


@pytest.mark.parametrize(
    ("values", "missing"),
    [
        ({"EKS_CLUSTER": "prod"}, "DEPLOY_PRODUCTION_ROLE_ARN is not"),
        ({"DEPLOY_ROLE_ARN": "arn:aws:iam::1:role/deploy"}, "EKS_CLUSTER is not"),
        ({"KUBECONFIG_DATA": "not base64!"}, "KUBECONFIG_DATA is not base64"),
    ],
)
def test_deploy_ready_fails_when_half_configured(tmp_path: Path, values: dict[str, str], missing: str) -> None:
    result = mlops("deploy-ready", "--env", "production", env=bare_env(tmp_path, **values))
    assert result.returncode == 1
    assert missing in result.stderr


def test_kubeconfig_data_is_written_where_kubectl_reads_it_private(tmp_path: Path) -> None:
    config = b"apiVersion: v1\nkind: Config\ncurrent-context: x\n"
    env = bare_env(tmp_path, KUBECONFIG_DATA=base64.b64encode(config).decode())
    result = mlops("kubeconfig", env=env)
    assert result.returncode == 0, result.stderr
    written = tmp_path / "home" / ".kube" / "config"
    assert written.read_bytes() == config
    assert written.stat().st_mode & 0o077 == 0


def kubeconfig_with_aws(tmp_path: Path, script: str) -> subprocess.CompletedProcess[str]:
    """`mlops kubeconfig` for EKS cluster mlops (eu-west-1), with `aws` a shell stand-in running `script`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    aws = bin_dir / "aws"
    aws.write_text(f"#!/bin/sh\n{script}\n")
    aws.chmod(0o755)
    env = bare_env(tmp_path, EKS_CLUSTER="mlops", AWS_REGION="eu-west-1", DEPLOY_ROLE_ARN="arn")
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    return mlops("kubeconfig", env=env)


def test_eks_logs_in_through_the_aws_cli(tmp_path: Path) -> None:
    """`aws` is a recording stand-in here: the real one needs AWS."""
    result = kubeconfig_with_aws(tmp_path, f'echo "$@" > {tmp_path / "aws-args"}')
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "aws-args").read_text().split() == [
        "eks", "update-kubeconfig", "--name", "mlops", "--region", "eu-west-1"]  # fmt: skip


def test_a_failed_eks_login_says_what_aws_said_and_what_to_check(tmp_path: Path) -> None:
    """`aws` is a stand-in that fails as the real one does without the right role."""
    denied = "An error occurred (AccessDeniedException) when calling DescribeCluster"
    result = kubeconfig_with_aws(tmp_path, f"echo '{denied}' >&2\nexit 254")
    assert result.returncode != 0
    assert "AccessDeniedException" in result.stderr
    assert "EKS cluster mlops (eu-west-1): is the deploy role allowed?" in result.stderr


def test_the_summary_names_the_role_variable_of_each_environment() -> None:
    assert cluster_login.role_variable("staging") == "DEPLOY_STAGING_ROLE_ARN"
    assert "DEPLOY_PRODUCTION_ROLE_ARN" in cluster_login.not_configured("production", None)


# --------------------------------------------------------------------------- promotion


def test_pin_sets_the_digest_and_version_and_keeps_the_overlay(repo_root: Path, tmp_path: Path) -> None:
    source = (repo_root / "deploy" / "overlays" / "production" / "kustomization.yaml").read_text()
    image = f"{REPO}@sha256:{'c' * 64}"
    text = promote.pin(source, image, VERSION)
    assert text.startswith(source.split("apiVersion")[0])  # the comment at the top stays
    assert promote.pin(text, image, VERSION) == text  # promoting the same image again changes nothing
    shutil.copytree(repo_root / "deploy", tmp_path / "deploy")
    (tmp_path / "deploy" / "overlays" / "production" / "kustomization.yaml").write_text(text)
    documents = rendered("production", tmp_path)
    (deployment,) = [doc for doc in documents if doc["kind"] == "Deployment"]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == image
    assert deployment["spec"]["template"]["metadata"]["annotations"][MODEL_VERSION] == VERSION
    assert deployment["spec"]["replicas"] == 2  # the overlay's patches survive the rewrite
    for doc in documents:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    with pytest.raises(DeployError, match="not pinned by digest"):
        promote.pin(source, f"{REPO}:v1", VERSION)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def github(tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout of deploy/ whose origin is the fake GitHub (tests/workflows/standins: gh and a
    bare git server, which record the pull requests); cwd = the checkout. Returns the fake's folder."""
    github = tmp_path / "github"
    server = github / "git" / "acme" / "mlops-template.git"
    server.mkdir(parents=True)
    git(server, "init", "-q", "--bare")
    work = tmp_path / "work"
    shutil.copytree(repo_root / "deploy", work / "deploy")
    git(work, "init", "-q", "-b", "main")
    git(work, "remote", "add", "origin", str(server))
    git(work, "add", "-A")
    git(work, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    monkeypatch.chdir(work)
    monkeypatch.setenv("PATH", f"{STANDINS / 'gh'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_GITHUB_DIR", str(github))
    monkeypatch.setenv("GH_REPO", "acme/mlops-template")
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_fake")
    return github


def test_promotion_opens_one_pull_request_and_updates_it_fake_github(github: Path) -> None:
    work, server = Path.cwd(), github / "git" / "acme" / "mlops-template.git"
    first, second = f"{REPO}@sha256:{'1' * 64}", f"{REPO}@sha256:{'2' * 64}"

    opened = promote.promote("production", first, VERSION, run_url="https://ci/run/1")
    assert opened.pull_request == "https://github.com/acme/mlops-template/pull/101"
    assert git(work, "status", "--porcelain") == ""  # the checkout is left as it was
    assert git(work, "branch", "--show-current") == "main"
    overlay = "promote/production:deploy/overlays/production/kustomization.yaml"
    assert f"digest: sha256:{'1' * 64}" in git(work, "--git-dir", str(server), "show", overlay)
    updated = promote.promote("production", second, "churn:second")
    assert updated.pull_request is not None
    assert updated.pull_request.startswith("updated pull request #101")
    fake = json.loads((github / "state.json").read_text())
    (pull,) = fake["pulls"].values()
    assert pull["head"]["ref"] == "promote/production"
    assert first in pull["body"]
    assert "https://ci/run/1" in pull["body"]
    assert [c["issue"] for c in fake["comments"]] == [101]
    assert second in fake["comments"][0]["body"]
    assert f"digest: sha256:{'2' * 64}" in git(work, "--git-dir", str(server), "show", overlay)


# --------------------------------------------------------------------------- the CLI, as the workflow runs it


def test_a_failed_release_exits_1_with_an_error_annotation_and_a_summary_stand_in(
    cluster: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real smoke test through the stand-in's port-forward to a port where nothing answers."""
    good = pushed("g1")
    release.release("production", good, expect_version=VERSION, check=passing([]))
    dead = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = dead.server_address[1]
    dead.server_close()
    monkeypatch.setenv("FAKE_KUBE_BACKENDS", f"mlops-production=http://127.0.0.1:{port}")
    env = os.environ | {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    args = ["release", "--env", "production", "--image", pushed("n2"), "--expect-version", VERSION]
    result = mlops(*args, "--smoke-wait", "1", env=env)
    assert result.returncode == 1
    assert "::error title=Release to production failed::production: the smoke test" in result.stdout
    assert f"ROLLED BACK to {good}" in result.stderr
    assert "/readyz unreachable" in result.stderr
    assert "Release to production failed" in (tmp_path / "summary.md").read_text()


def test_promotion_names_the_setting_when_actions_may_not_open_pull_requests_fake_github(
    github: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.workflows.standins import fake_github

    fake_github.set_setting(github, "actions_can_create_pull_requests", False)
    monkeypatch.setenv("GITHUB_TOKEN", fake_github.ACTIONS_TOKEN)  # the workflow's own token
    with pytest.raises(DeployError, match="Allow GitHub Actions to create and approve pull requests"):
        promote.promote("production", f"{REPO}@sha256:{'1' * 64}", VERSION)
