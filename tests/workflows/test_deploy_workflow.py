"""The deploy workflow, run for real under act, on a merge to main whose production smoke test fails.

Stand-ins for what cannot exist here, named in the test: the registry and docker engine
(`standins/docker`: builds and pushes are recorded) and the cluster (`standins/kubectl`:
kustomize is the real one, apply/get/rollout are recorded). The smoke tests are real: the
staging URL is the real service on 127.0.0.1, the production URL answers nothing, so the
production release must roll back to the image production ran before and fail the run.
One run: about two minutes (install, dvc repro on the 20k sample, Bento build, three jobs).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlops_template import deploy
from tests.integration.conftest import TrainedModel, serving, trained_model
from tests.processes import free_port
from tests.workflows.act import EVENTS, STANDINS, ActResult, ActSession

pytestmark = [pytest.mark.act, pytest.mark.slow]
__all__ = ["trained_model"]  # the fixture, shared with the service tests

WORKFLOW = ".github/workflows/deploy.yml"
PREVIOUS = "ghcr.io/acme/mlops-template/service:previous-release"
JOBS = ("Train, gate, build and push the image", "Release to staging", "Release to production")


@pytest.fixture(scope="module")
def staging_url(trained_model: TrainedModel, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real service: what the staging cluster would answer with."""
    with serving(trained_model, tmp_path_factory.mktemp("staging") / "server.log") as url:
        yield url


def seed_cluster(session: ActSession, repo_root: Path) -> None:
    """Both environments already run an earlier release, as they would before this merge."""
    before = {key: os.environ.get(key) for key in ("KUBECTL", "FAKE_KUBE_DIR")}
    os.environ["KUBECTL"] = str(STANDINS / "kubectl" / "kubectl")
    os.environ["FAKE_KUBE_DIR"] = str(session.github_dir / "cluster")
    cwd = Path.cwd()
    try:
        os.chdir(repo_root)
        for env in ("staging", "production"):
            deploy.deploy(env, PREVIOUS)
    finally:
        os.chdir(cwd)
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def merged(act_session: ActSession, staging_url: str, repo_root: Path) -> ActResult:
    seed_cluster(act_session, repo_root)
    return act_session.run(
        "push",
        EVENTS / "push_main.json",
        workflow=WORKFLOW,
        standins=["docker", "kubectl"],
        env={"SMOKE_WAIT": "5"},
        variables={"STAGING_URL": staging_url, "PRODUCTION_URL": f"http://127.0.0.1:{free_port()}"},
    )


def state(session: ActSession, name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((session.github_dir / name / "state.json").read_text())
    return document


def test_the_image_is_built_and_pushed_by_commit_sha_and_bento_version_stand_in_registry(
    merged: ActResult, act_session: ActSession
) -> None:
    assert merged.jobs.get(JOBS[0]) == "succeeded", merged.tail()
    pushed = [push["ref"] for push in state(act_session, "docker")["pushed"]]
    image = "ghcr.io/acme/mlops-template/service"
    assert f"{image}:{act_session.head_sha}" in pushed
    assert len(pushed) == 2
    assert pushed[1].startswith(f"{image}:")


def test_staging_gets_the_new_image_and_passes_its_smoke_test_stand_in_cluster(
    merged: ActResult, act_session: ActSession
) -> None:
    assert merged.jobs.get(JOBS[1]) == "succeeded", merged.tail()
    history = [e["images"][0] for e in state(act_session, "cluster")["history"] if e["namespace"] == "mlops-staging"]
    assert history == [PREVIOUS, f"ghcr.io/acme/mlops-template/service:{act_session.head_sha}"]


def test_a_failing_production_smoke_test_rolls_production_back_and_fails_the_run_stand_in_cluster(
    merged: ActResult, act_session: ActSession
) -> None:
    assert merged.returncode != 0
    assert merged.jobs.get(JOBS[2]) == "failed", merged.tail()
    history = [e["images"][0] for e in state(act_session, "cluster")["history"] if e["namespace"] == "mlops-production"]
    new = f"ghcr.io/acme/mlops-template/service:{act_session.head_sha}"
    assert history == [PREVIOUS, new, PREVIOUS]
    assert f"ROLLED BACK to {PREVIOUS}" in merged.log
    assert "::error title=Deploy failed::production: the smoke test" in merged.log
