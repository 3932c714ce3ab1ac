"""deploy.yml's build job and the DVC remote, run for real under act (docker stand-in, a local
folder as the remote: DVC's local remote, the same code path as S3 minus the network; `make
e2e` pushes to a real S3 server).

1. a merge to main pushes data, model and run-cache to the remote after `make check-model`
   found the rebuilt model to be the one the committed dvc.lock records;
2. a commit whose dvc.lock records another model than the one the build makes (here: a
   tampered hash) stops the build at `make check-model`, before any image is built or pushed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.workflows.act import EVENTS, ActResult, ActSession

pytestmark = [pytest.mark.act, pytest.mark.slow]

DEPLOY = ".github/workflows/deploy.yml"
BUILD = "Train, gate, build and push the image"


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dvc-remote")


def build(session: ActSession, remote: Path) -> ActResult:
    return session.run(
        "push",
        EVENTS / "push_main.json",
        workflow=DEPLOY,
        job="build",
        standins=["docker"],
        variables={"DVC_REMOTE_URL": str(remote)},
    )


@pytest.fixture(scope="module")
def merged(act_session: ActSession, remote: Path) -> ActResult:
    return build(act_session, remote)


@pytest.fixture(scope="module")
def tampered(act_session: ActSession, merged: ActResult, remote: Path) -> ActResult:
    lock = (act_session.repo / "dvc.lock").read_text(encoding="utf-8")
    model = re.search(r"path: models/model\n\s+hash: md5\n\s+md5: ([0-9a-f]{32})\.dir", lock)
    assert model is not None, "dvc.lock records no models/model output"
    act_session.commit("a dvc.lock that no review saw", {"dvc.lock": lock.replace(model[1], "0" * 32)})
    return build(act_session, remote)


def test_main_pushes_data_model_and_run_cache_to_the_dvc_remote(merged: ActResult, remote: Path) -> None:
    assert merged.succeeded, merged.tail()
    assert merged.jobs.get(BUILD) == "succeeded"
    assert "check-model: the built model is the one the committed dvc.lock records" in merged.log
    stored = [p for p in remote.rglob("*") if p.is_file()]
    assert any("runs" in p.relative_to(remote).parts for p in stored), "no run-cache entry on the remote"
    assert any("files" in p.relative_to(remote).parts for p in stored), "no data or model on the remote"


def test_a_dvc_lock_naming_another_model_stops_the_build_before_the_image(
    tampered: ActResult, act_session: ActSession
) -> None:
    assert not tampered.succeeded
    assert tampered.jobs.get(BUILD) == "failed"
    assert "check-model: dvc.lock differs from the commit's" in tampered.log
    assert "make container" not in tampered.log.split("check-model: dvc.lock differs", 1)[1]
