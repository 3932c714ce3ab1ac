"""The service image, built with the machine's docker engine, runs as a non-root user on a
read-only root file system and passes the smoke test.

`make test-container` (BASE_IMAGE=local/bento-base:py3.11 where Docker Hub is out of reach,
see docs/service.md "Containers"). The image is built by the real `make container`, from a model the
real stages trained, so this is what CI pushes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mlops_template.deploy.smoke import smoke, valid_record
from mlops_template.params import load_params
from tests.conftest import REPO_ROOT
from tests.integration.conftest import TrainedModel
from tests.processes import free_port

pytestmark = pytest.mark.container
BUILD_TIMEOUT_S = 1800


def docker(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=timeout)


@pytest.fixture(scope="module")
def engine() -> None:
    if shutil.which("docker") is None:
        pytest.skip("no docker CLI: install docker (Debian: docker.io) to build the image")
    if docker("info", check=False).returncode != 0:
        pytest.skip("no docker engine answers `docker info`: start dockerd (docs/service.md: Containers)")
    base = os.environ.get("BASE_IMAGE", "python:3.11-slim")
    if docker("image", "inspect", base, check=False).returncode != 0:
        pulled = docker("pull", base, check=False, timeout=600)
        assert pulled.returncode == 0, (
            f"the base image {base} is neither present nor pullable ({pulled.stderr.strip()[-300:]}); "
            "where Docker Hub is out of reach, build a stand-in and pass BASE_IMAGE (docs/service.md: Containers)"
        )


@pytest.fixture(scope="module")
def image(engine: None, trained_model: TrainedModel, repo_root: Path) -> Iterator[str]:
    name = f"mlops-template-service-test-{uuid.uuid4().hex[:8]}"
    env = trained_model.env() | {"IMAGE": name, "GIT_SHA": "test", "PARAMS": str(trained_model.params_file)}
    env.pop("MLOPS_PARAMS")  # the Bento serves with the repository's params.yaml, as in production
    build = subprocess.run(
        ["make", "container"],
        cwd=repo_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    yield f"{name}:test"
    tags = docker("images", name, "--format", "{{.Repository}}:{{.Tag}}", check=False).stdout.split()
    docker("rmi", "--force", *tags, check=False)


@pytest.fixture(scope="module")
def container(image: str) -> Iterator[tuple[str, str]]:
    """The image started as the unprivileged user, root file system read-only, like the Kubernetes manifests."""
    name, port = f"svc-{uuid.uuid4().hex[:8]}", free_port()
    docker(
        "run", "--detach", "--name", name, "--network", "host", "--user", "1034:1034", "--read-only",
        "--tmpfs", "/tmp", "--tmpfs", "/home/bentoml/bento/src/logs:uid=1034,gid=1034", "--env", f"PORT={port}",
        "--env", "BENTOML_HOME=/tmp/bentoml",
        image,
    )  # fmt: skip
    try:
        yield name, f"http://127.0.0.1:{port}"
    finally:
        docker("rm", "--force", name, check=False)


def test_the_image_runs_as_a_non_root_user(image: str, container: tuple[str, str]) -> None:
    assert docker("image", "inspect", image, "--format", "{{.Config.User}}").stdout.strip() == "bentoml"
    name, _ = container
    assert docker("exec", name, "id", "-u").stdout.strip() != "0"


def test_the_container_passes_the_smoke_test(container: tuple[str, str], trained_model: TrainedModel) -> None:
    name, url = container
    result = smoke(url, wait_seconds=180, expect_version=trained_model.tag)
    logs = docker("logs", name, check=False)
    assert result.passed, result.message() + "\n" + logs.stdout[-2000:] + logs.stderr[-2000:]


def test_the_container_writes_the_inference_log(container: tuple[str, str]) -> None:
    """After the smoke test's prediction, within the log's flush interval (the image's params.yaml) and slack."""
    name, _ = container
    deadline = time.monotonic() + load_params(REPO_ROOT / "params.yaml").serve.inference_log.flush_seconds + 15
    while True:
        listing = docker(
            "exec", name, "find", "/home/bentoml/bento/src/logs/inference", "-name", "*.parquet", check=False
        )
        if ".parquet" in listing.stdout or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert ".parquet" in listing.stdout, listing.stderr


def test_the_containers_batch_endpoints_answer(container: tuple[str, str], trained_model: TrainedModel) -> None:
    """The batch routes are a FastAPI app mounted in the service: the image must carry it."""
    _, url = container
    assert smoke(url, wait_seconds=180).passed
    record = valid_record()
    bodies = {"records": [record, record], "columns": {name: [value, value] for name, value in record.items()}}
    for shape, rows in bodies.items():
        response = httpx.post(f"{url}/predict_batch", json={shape: rows}, timeout=60)
        assert response.status_code == 200, (shape, response.text)
        assert response.json()["rows"] == 2
        assert response.json()["model_version"] == trained_model.tag
    csv = ",".join(record) + "\n" + ",".join(str(value) for value in record.values()) + "\n"
    response = httpx.post(f"{url}/predict_file", content=csv, headers={"content-type": "text/csv"}, timeout=60)
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == 1
