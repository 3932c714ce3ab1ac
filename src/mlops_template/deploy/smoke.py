"""The smoke test of a running service: is it up, does it answer, does it refuse.

Run against any URL (`make smoke URL=...`, `mlops smoke --url ...`): a local `bentoml
serve`, a container, or an environment after a deploy, where a failure triggers the
rollback. Four checks, each named in the result: /livez and /readyz answer 200, a valid
record gets a probability in [0, 1] and a model version (the expected one, if given), and
an invalid record gets a 4xx naming the field. Behind a load balancer an old pod may still
answer for a moment after a rollout, so an unexpected version is asked again until the
wait is over; only then is it a failure. The records are made from the contract, so the
smoke test works for any dataset. Standard library only: it runs wherever Python does.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from mlops_template.features import Column, contract

REQUEST_TIMEOUT_S = 30


@dataclass(frozen=True)
class SmokeResult:
    url: str
    passed: bool
    checks: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    model_version: str | None = None

    def message(self) -> str:
        lines = [f"smoke test of {self.url}: {'passed' if self.passed else 'FAILED'}"]
        lines += [f"  ok   {check}" for check in self.checks]
        lines += [f"  FAIL {failure}" for failure in self.failures]
        return "\n".join(lines)


def _example(column: Column) -> Any:
    if column.kind == "number":
        low, high = column.min_value or 0.0, column.max_value
        return low if high is None else (low + high) / 2
    if column.kind == "category":
        return column.categories[0] if column.categories else "unknown"
    if column.kind == "boolean":
        return True
    if column.kind == "date":
        return "2024-01-15"
    return None


def valid_record() -> dict[str, Any]:
    """A record inside the contract: every feature at a plausible value."""
    return {c.name: _example(c) for c in contract().features()}


def invalid_record() -> tuple[dict[str, Any], str]:
    """A record the service must refuse, and the field its error must name."""
    for column in contract().features("number"):
        if column.max_value is not None:
            return valid_record() | {column.name: column.max_value + 1}, column.name
    return valid_record() | {"not_a_field": 1}, "not_a_field"


def _call(url: str, body: dict[str, Any] | None = None) -> tuple[int, str]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:  # noqa: S310 (http(s) URL checked)
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def wait_ready(url: str, wait_seconds: float) -> tuple[bool, str]:
    """Poll /readyz until it answers 200 or the time is up (a fresh pod or container is starting)."""
    deadline = time.monotonic() + wait_seconds
    last = "no answer"
    while True:
        try:
            status, body = _call(f"{url}/readyz")
            if status == 200:
                return True, "/readyz 200"
            last = f"/readyz {status} {body[:200]}"
        except OSError as error:
            last = f"/readyz unreachable ({error})"
        if time.monotonic() >= deadline:
            return False, f"{last} after {wait_seconds:.0f} s"
        time.sleep(1)


def smoke(url: str, *, wait_seconds: float = 60, expect_version: str | None = None) -> SmokeResult:
    url = url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"{url!r} is not an http(s) URL")
    checks: list[str] = []
    failures: list[str] = []
    ready, what = wait_ready(url, wait_seconds)
    (checks if ready else failures).append(what)
    if not ready:
        return SmokeResult(url, False, checks, failures)
    version = None
    deadline = time.monotonic() + wait_seconds
    try:
        status, _ = _call(f"{url}/livez")
        (checks if status == 200 else failures).append(f"/livez {status}")
        while True:
            status, body = _call(f"{url}/predict", valid_record())
            answer = json.loads(body) if status == 200 else {}
            version = answer.get("model_version")
            if not expect_version or version == expect_version or time.monotonic() >= deadline:
                break
            time.sleep(1)  # an old pod still answering: ask again until the wait is over
        probability = answer.get("probability")
        if status == 200 and isinstance(probability, float) and 0.0 <= probability <= 1.0 and version:
            checks.append(f"valid record -> 200, probability {probability:.4f}, model {version}")
        else:
            failures.append(f"valid record -> {status} {body[:300]}")
        if expect_version and version != expect_version:
            failures.append(f"model version is {version}, expected {expect_version}")
        bad, field_name = invalid_record()
        status, body = _call(f"{url}/predict", bad)
        if 400 <= status < 500 and field_name in body:
            checks.append(f"invalid {field_name} -> {status} naming the field")
        else:
            failures.append(f"invalid {field_name} -> {status} {body[:300]} (expected a 4xx naming {field_name})")
    except (OSError, ValueError) as error:
        failures.append(f"request failed: {error}")
    return SmokeResult(url, not failures, checks, failures, version)
