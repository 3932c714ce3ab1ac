"""The day in the life takes minutes (three trainings, two services): it runs only when selected."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    selected = config.getoption("markexpr") or ""
    if "e2e" in selected or "container" in selected:
        return
    skip = pytest.mark.skip(reason="a day in the life with real S3, Prometheus and service (minutes): `make e2e`")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)
