"""Fixtures for the workflow tests: an act session per module (one simulated repository)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.workflows.act import ActSession


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """act inside act is not supported: the PR workflow's own `make test` skips these."""
    if not os.environ.get("ACT"):
        return
    skip = pytest.mark.skip(reason="running inside act: workflows are not run under act again")
    for item in items:
        if "act" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def act_session(tmp_path_factory: pytest.TempPathFactory) -> ActSession:
    """A simulated copy of this working tree on a fake GitHub, shared by a module's tests."""
    root: Path = tmp_path_factory.mktemp("act")
    return ActSession.create(root)
