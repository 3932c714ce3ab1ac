"""Monitoring, checked by the real Prometheus (Debian's package, `make monitoring-tools`):
the alert rules are valid and pass their unit tests, and a Prometheus scraping the running
service sees the metrics the rules read, with the rules loaded and healthy."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mlops_template.deploy.smoke import valid_record
from tests.conftest import REPO_ROOT
from tests.integration.conftest import Served
from tests.processes import free_port, running_server

MONITORING = REPO_ROOT / "deploy" / "monitoring"
RULES = MONITORING / "alert-rules.yaml"
MISSING = "Prometheus is not installed: `make monitoring-tools` installs Debian's prometheus package (needs root + apt)"
needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None, reason=MISSING)
needs_prometheus = pytest.mark.skipif(shutil.which("prometheus") is None, reason=MISSING)


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["promtool", *args], capture_output=True, text=True, check=False, timeout=120)


@needs_promtool
def test_the_alert_rules_are_valid_and_pass_their_unit_tests() -> None:
    checked = promtool("check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 4 rules found" in checked.stdout
    tested = promtool("test", "rules", str(MONITORING / "alert-rules.test.yaml"))
    assert tested.returncode == 0, tested.stdout + tested.stderr


@needs_promtool
def test_a_broken_rule_is_caught(tmp_path: Path) -> None:
    """promtool is not a rubber stamp: a rule reading a misspelt function fails the check."""
    broken = tmp_path / "rules.yaml"
    broken.write_text(RULES.read_text(encoding="utf-8").replace("histogram_quantile(", "histogram_quantil("))
    assert promtool("check", "rules", str(broken)).returncode != 0


def test_the_scrape_configuration_points_at_the_service_as_deployed(repo_root: Path) -> None:
    """The pod annotations name the container's port and path; the ServiceMonitor selects the
    rendered Service by its labels and names one of its ports."""
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(repo_root / "deploy" / "overlays" / "staging")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    documents = {doc["kind"]: doc for doc in yaml.safe_load_all(rendered) if doc}
    pod = documents["Deployment"]["spec"]["template"]
    annotations = pod["metadata"]["annotations"]
    (container,) = pod["spec"]["containers"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) in {port["containerPort"] for port in container["ports"]}
    assert annotations["prometheus.io/path"] == "/metrics"
    monitor = yaml.safe_load((MONITORING / "servicemonitor.yaml").read_text(encoding="utf-8"))
    service = documents["Service"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert {endpoint["port"] for endpoint in monitor["spec"]["endpoints"]} <= {
        p["name"] for p in service["spec"]["ports"]
    }
    assert {endpoint["path"] for endpoint in monitor["spec"]["endpoints"]} == {"/metrics"}


@pytest.fixture(scope="module")
def prometheus(served: Served, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus scraping the service every second, with the alert rules loaded."""
    folder = tmp_path_factory.mktemp("prometheus")
    target = served.url.removeprefix("http://")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [
            {"job_name": "service", "metrics_path": "/metrics", "static_configs": [{"targets": [target]}]}
        ],
    }
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    url = f"http://127.0.0.1:{free_port()}"
    command = [
        "prometheus",
        f"--config.file={folder / 'prometheus.yml'}",
        f"--storage.tsdb.path={folder / 'data'}",
        f"--web.listen-address={url.removeprefix('http://')}",
    ]
    with running_server(command, ready_url=f"{url}/-/ready", log=folder / "prometheus.log", timeout_s=60):
        yield url


def query(prometheus: str, expression: str) -> list[dict[str, Any]]:
    address = f"{prometheus}/api/v1/query?query={urllib.parse.quote(expression)}"
    with urllib.request.urlopen(address, timeout=10) as response:  # noqa: S310 (127.0.0.1)
        body = json.load(response)
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def value(prometheus: str, expression: str) -> float | None:
    result = query(prometheus, expression)
    return float(result[0]["value"][1]) if result else None


def wait_for_value(prometheus: str, expression: str, expected: float, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while (seen := value(prometheus, expression)) != expected:
        assert time.monotonic() < deadline, f"{expression} = {seen}, expected {expected}"
        time.sleep(0.5)


@pytest.mark.slow
@needs_prometheus
def test_prometheus_scrapes_what_the_rules_read_from_the_running_service(prometheus: str, served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        for _ in range(3):
            assert client.post("/predict", json=valid_record()).status_code == 200
        assert client.post("/predict_batch", json={"records": [valid_record()] * 10}).status_code == 200
    wait_for_value(prometheus, 'up{job="service"}', 1.0)
    wait_for_value(prometheus, "sum(mlops_predictions_total)", 13.0)
    # the series each alert rule reads, with the labels the rules select on
    assert value(prometheus, 'sum(bentoml_service_request_total{endpoint="/predict", http_response_code="200"})') == 3
    assert value(prometheus, 'count(bentoml_service_request_duration_seconds_bucket{endpoint=~"/predict.*"})')
    card = json.loads((served.model.params.paths.model_dir / "model_card.json").read_text(encoding="utf-8"))
    rate = value(prometheus, f'mlops_model_train_positive_rate{{model_version="{served.model.tag}"}}')
    assert rate == pytest.approx(card["train_positive_rate"])
    assert value(prometheus, "sum(mlops_inference_log_dropped_rows_total)") in (None, 0.0)
    with urllib.request.urlopen(f"{prometheus}/api/v1/rules", timeout=10) as response:  # noqa: S310
        groups = json.load(response)["data"]["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert {rule["name"] for rule in rules} == {
        "PredictionServiceErrorRate",
        "PredictionServiceLatencyP99",
        "PositivePredictionShareShifted",
        "InferenceLogDroppingPredictions",
    }
    deadline = time.monotonic() + 10
    while any(rule.get("health") != "ok" for rule in rules):  # evaluated at least once, without error
        assert time.monotonic() < deadline, rules
        time.sleep(1)
        with urllib.request.urlopen(f"{prometheus}/api/v1/rules", timeout=10) as response:  # noqa: S310
            rules = [rule for group in json.load(response)["data"]["groups"] for rule in group["rules"]]
