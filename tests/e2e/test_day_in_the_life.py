"""`make e2e` under pytest: the driver runs as a user runs it (a subprocess), with the S3 outage.

Marker `e2e`, selected only with `-m e2e` (`make e2e` runs the driver itself): it takes
longer than `make test`'s budget (docs/testing.md). It fails with the driver's output,
which names the step that broke.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.repos import REPO_ROOT

pytestmark = pytest.mark.e2e


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
