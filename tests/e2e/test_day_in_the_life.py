"""`make e2e` under pytest: the driver runs as a user runs it (a subprocess), with the S3 outage.

Marker `e2e`, selected only with `-m e2e` (`make e2e` runs the driver itself): it takes
longer than `make test`'s budget (docs/testing.md). It fails with the driver's output,
which names the step that broke.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.repos import REPO_ROOT

pytestmark = pytest.mark.e2e  # and the image variant `container` too: `pytest -m container` selects it


def test_a_day_in_the_life_with_an_s3_outage(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.e2e.day_in_the_life", "--outage", "--workdir", str(tmp_path / "day")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "steps passed" in result.stdout
    for step in ("make drift", "retraining PR in a fresh clone", "new model serves", "S3 outage"):
        assert f"] {step}" in result.stdout


@pytest.mark.container
def test_a_day_in_the_life_with_the_service_as_the_image_from_a_local_registry(tmp_path: Path) -> None:
    """`make e2e CONTAINER=1`: needs Debian's docker.io and docker-registry (`make container-tools`)
    and a base image (BASE_IMAGE; local/bento-base:py3.11 is built when missing)."""
    missing = [tool for tool in ("docker", "dockerd", "docker-registry") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} missing: `make container-tools` installs them")
    base = os.environ.get("BASE_IMAGE", "local/bento-base:py3.11")
    command = ["--outage", "--container", base, "--workdir", str(tmp_path / "day")]
    result = subprocess.run(
        [sys.executable, "-m", "tests.e2e.day_in_the_life", *command],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=2400,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("built, pushed, removed here and pulled from the registry") == 2
    assert "steps passed" in result.stdout
