"""The deploy workflows, run for real under act, from a fresh copy to a promoted production release.

One simulated repository lives through what a team meets on day one, in order:

1. nothing configured: a merge builds and pushes the image; the staging job and
   production.yml skip their release steps, green, with a summary saying what to set;
2. a kubeconfig but no pull token, on an empty cluster: the first staging rollout fails
   (the private GHCR image never pulls), the run is red, nothing is recorded as good and no
   promotion is opened;
3. with the pull token: staging gets its namespace and pull secret, the image by digest and
   its smoke test through `kubectl port-forward`, for the model version the build carries;
   the promotion pull request pinning production to that digest opens on the fake GitHub;
4. the promotion is merged: production.yml releases exactly that digest, smoke-tested the same way.

Stand-ins for what cannot exist here, named in the test names: the registry and docker
engine (`standins/docker`) and the cluster (`standins/kubectl`: kustomize is the real one;
a fresh one-node cluster otherwise, whose pods run the Bento the image was built from, with
the real `bentoml serve`). The smoke tests are real. A run builds the Bento: minutes.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.workflows.act import EVENTS, ActResult, ActSession

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"
DEPLOY, PRODUCTION = ".github/workflows/deploy.yml", ".github/workflows/production.yml"
BUILD = "Train, gate, build and push the image"
STAGING = "Release to staging"
PROMOTE = "Open the promotion pull request for production"
IMAGE = "ghcr.io/acme/mlops-template/service"
KUBECONFIG = base64.b64encode(
    b"apiVersion: v1\nkind: Config\ncurrent-context: stand-in\n"
    b"contexts: [{name: stand-in, context: {cluster: stand-in, user: ci}}]\n"
    b"clusters: [{name: stand-in, cluster: {server: 'https://cluster.test'}}]\nusers: [{name: ci, user: {}}]\n"
).decode()
CLUSTER = {"KUBECONFIG_DATA": KUBECONFIG}
PULL_TOKEN = {"REGISTRY_PULL_TOKEN": "ghp_fake_read_packages"}  # not a secret: the stand-in checks it arrives


def push(session: ActSession, workflow: str, secrets: dict[str, str] | None = None) -> ActResult:
    return session.run(
        "push", EVENTS / "push_main.json", workflow=workflow, standins=["docker", "kubectl"], secrets=secrets or {}
    )


def cluster(session: ActSession) -> dict[str, Any]:
    path = session.github_dir / "cluster" / "state.json"
    document: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {"objects": {}, "history": []}
    return document


def pushed_images(session: ActSession) -> list[dict[str, str]]:
    path = session.github_dir / "docker" / "state.json"
    return list(json.loads(path.read_text())["pushed"]) if path.exists() else []


def history(session: ActSession, namespace: str) -> list[str]:
    return [e["images"][0] for e in cluster(session)["history"] if e["namespace"] == namespace]


def last_good(session: ActSession, namespace: str) -> dict[str, str] | None:
    found = cluster(session)["objects"].get(f"ConfigMap/{namespace}/prediction-service-last-good")
    return None if found is None else dict(found["data"])


@pytest.fixture(scope="module")
def fresh(act_session: ActSession) -> tuple[ActResult, ActResult]:
    """Day one: nothing configured, a merge, and production.yml run by hand."""
    return push(act_session, DEPLOY), push(act_session, PRODUCTION)


@pytest.mark.act
@pytest.mark.slow
def test_a_fresh_copy_builds_and_pushes_and_skips_the_releases_green_with_what_to_configure_stand_ins(
    fresh: tuple[ActResult, ActResult], act_session: ActSession
) -> None:
    deploy, production = fresh
    assert deploy.succeeded, deploy.tail()
    assert deploy.jobs.get(BUILD) == "succeeded"
    assert deploy.jobs.get(STAGING) == "succeeded"
    assert PROMOTE not in deploy.jobs  # skipped: staging released nothing
    assert f"{IMAGE}:{act_session.head_sha}" in [p["ref"] for p in pushed_images(act_session)]
    assert "Staging: not deployed, no cluster is configured" in deploy.log
    assert "DEPLOY_STAGING_ROLE_ARN" in deploy.log
    assert "KUBECONFIG_DATA" in deploy.log
    assert production.succeeded, production.tail()
    assert "Production: not deployed, no cluster is configured" in production.log
    assert "DEPLOY_PRODUCTION_ROLE_ARN" in production.log
    assert cluster(act_session)["objects"] == {}  # no kubectl call reached a cluster


@pytest.fixture(scope="module")
def first_rollout(fresh: tuple[ActResult, ActResult], act_session: ActSession) -> ActResult:
    """A cluster, no pull token: the private image never pulls on the empty cluster."""
    return push(act_session, DEPLOY, CLUSTER)


@pytest.mark.act
@pytest.mark.slow
def test_a_failing_first_rollout_is_red_records_nothing_and_promotes_nothing_stand_in_cluster(
    first_rollout: ActResult, act_session: ActSession
) -> None:
    assert not first_rollout.succeeded
    assert first_rollout.jobs.get(STAGING) == "failed", first_rollout.tail()
    assert PROMOTE not in first_rollout.jobs
    assert "ImagePullBackOff" in first_rollout.log
    assert "no image pull secret mlops-staging/ghcr-pull and no REGISTRY_PULL_TOKEN" in first_rollout.log
    assert "nothing to roll back to" in first_rollout.log
    assert "::error title=Release to staging failed::" in first_rollout.log
    assert last_good(act_session, "mlops-staging") is None
    assert "Namespace//mlops-staging" in cluster(act_session)["objects"]  # the first deploy created it


@pytest.fixture(scope="module")
def released(first_rollout: ActResult, act_session: ActSession) -> ActResult:
    """The same merge again, with the pull token."""
    return push(act_session, DEPLOY, CLUSTER | PULL_TOKEN)


def built_image(session: ActSession) -> str:
    """The digest the last build pushed for this commit (each build's Bento, so its digest, is new)."""
    found = [p["digest"] for p in pushed_images(session) if p["ref"] == f"{IMAGE}:{session.head_sha}"]
    return f"{IMAGE}@{found[-1]}"


@pytest.mark.act
@pytest.mark.slow
def test_staging_releases_the_digest_on_an_empty_cluster_and_smokes_the_model_version_through_port_forward_stand_in_cluster(  # noqa: E501
    released: ActResult, act_session: ActSession
) -> None:
    assert released.jobs.get(STAGING) == "succeeded", released.tail(150)
    image = built_image(act_session)
    objects = cluster(act_session)["objects"]
    assert "Secret/mlops-staging/ghcr-pull" in objects
    assert history(act_session, "mlops-staging")[-1] == image
    assert "port-forward to prediction-service-" in released.log
    good = last_good(act_session, "mlops-staging")
    assert good is not None
    assert good["image"] == image
    model_name = yaml.safe_load((act_session.repo / "params.yaml").read_text(encoding="utf-8"))["serve"]["model_name"]
    assert good["model-version"].startswith(f"{model_name}:")
    assert f"model {good['model-version']}" in released.log  # the real service answered with that version
    assert "Insufficient" not in released.log


@pytest.mark.act
@pytest.mark.slow
def test_staging_opens_the_promotion_pull_request_with_the_digest_it_tested_fake_github(
    released: ActResult, act_session: ActSession
) -> None:
    assert released.succeeded, released.tail(150)
    assert released.jobs.get(PROMOTE) == "succeeded"
    (pull,) = released.pulls
    assert pull["head"]["ref"] == "promote/production"
    assert pull["base"] == "main"
    image = built_image(act_session)
    assert f"`{image}`" in pull["body"]
    branch = released.pushed("promote/production")
    assert branch is not None
    overlay = subprocess.run(
        ["git", "--git-dir", str(next((act_session.github_dir / "git").glob("*/*.git"))), "show",
         f"{branch}:deploy/overlays/production/kustomization.yaml"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    pinned = yaml.safe_load(overlay)["images"]
    assert pinned == [{"name": "mlops-template-service", "newName": IMAGE, "digest": image.split("@")[1]}]


@pytest.fixture(scope="module")
def promoted(released: ActResult, act_session: ActSession) -> ActResult:
    """A reviewer merges the promotion pull request: its branch becomes main's new commit."""
    server = next((act_session.github_dir / "git").glob("*/*.git"))
    subprocess.run(["git", "fetch", "-q", str(server), "promote/production"], cwd=act_session.repo, check=True)
    subprocess.run(["git", "merge", "-q", "--ff-only", "FETCH_HEAD"], cwd=act_session.repo, check=True)
    return push(act_session, PRODUCTION, CLUSTER | PULL_TOKEN)


@pytest.mark.act
@pytest.mark.slow
def test_the_merged_promotion_releases_exactly_the_staging_digest_to_production_stand_in_cluster(
    promoted: ActResult, act_session: ActSession
) -> None:
    assert promoted.succeeded, promoted.tail(150)
    tested = last_good(act_session, "mlops-staging")  # what staging released and smoke-tested
    assert tested is not None
    assert history(act_session, "mlops-production") == [tested["image"]]
    good = last_good(act_session, "mlops-production")
    assert good is not None
    assert (good["image"], good["model-version"]) == (tested["image"], tested["model-version"])
    assert "port-forward to prediction-service-" in promoted.log
    assert f"model {tested['model-version']}" in promoted.log


# --------------------------------------------------------------------------- the triggers (no act)


def on(workflow: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS / workflow).read_text())
    return dict(document.get("on") or document[True])  # YAML 1.1 reads the key `on` as True


def test_a_merged_promotion_runs_production_only_and_every_other_merge_runs_the_build() -> None:
    deploy, production = on("deploy.yml")["push"], on("production.yml")["push"]
    assert production["paths"] == ["deploy/overlays/production/**"]
    assert "deploy/overlays/production/**" in deploy["paths-ignore"]
    assert deploy["branches"] == production["branches"] == ["main"]


def test_each_environment_has_its_own_concurrency_group_never_cancelled() -> None:
    groups = {}
    for workflow in ("deploy.yml", "production.yml"):
        document = yaml.safe_load((WORKFLOWS / workflow).read_text())
        assert "concurrency" not in document  # no workflow-wide lock
        for name, job in document["jobs"].items():
            assert job["concurrency"]["cancel-in-progress"] is False
            groups[name] = job["concurrency"]["group"]
    assert groups["staging"] == "deploy-staging"
    assert groups["production"] == "deploy-production"
    assert len(set(groups.values())) == len(groups)
