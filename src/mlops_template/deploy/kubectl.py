"""The one way to the cluster: kubectl, and `kubectl port-forward` for a smoke test.

`KUBECTL` names another binary (the tests' stand-in). Every failure becomes a DeployError
that quotes kubectl's own message, so a run's log says what the cluster answered.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mlops_template.errors import UserError
from mlops_template.external import CommandError, NotInstalledError, run

FORWARD_TIMEOUT_S = 180  # the stand-in starts the service behind a port-forward; a real one is instant
_FORWARDING = re.compile(r"Forwarding from 127\.0\.0\.1:(\d+)")


class DeployError(UserError):
    """A deploy, rollback, release or promotion that did not go through; the message says what happened."""


def binary() -> str:
    return os.environ.get("KUBECTL", "kubectl")


def kubectl(*args: str, stdin: str | None = None, timeout: float = 600) -> str:
    try:
        return run([binary(), *args], stdin=stdin, timeout=timeout)
    except NotInstalledError as exc:
        raise DeployError(f"{exc}; install kubectl or set KUBECTL") from exc
    except CommandError as exc:
        raise DeployError(str(exc)) from exc


def get(kind: str, name: str, namespace: str) -> dict[str, Any] | None:
    """One object as the cluster has it, or None when it does not exist (yet)."""
    try:
        text = kubectl("get", kind, name, "--namespace", namespace, "--output", "json")
    except DeployError as exc:
        if "NotFound" in str(exc):
            return None
        raise
    found: dict[str, Any] = json.loads(text)
    return found


def apply(document: dict[str, Any]) -> str:
    """`kubectl apply` of one object or a `List`, sent as JSON on stdin (nothing written to disk)."""
    return kubectl("apply", "--filename", "-", stdin=json.dumps(document))


def as_list(documents: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "List", "items": documents}


def pods(namespace: str, selector: dict[str, str]) -> list[dict[str, Any]]:
    labels = ",".join(f"{key}={value}" for key, value in sorted(selector.items()))
    found = json.loads(kubectl("get", "pods", "--namespace", namespace, "--selector", labels, "--output", "json"))
    return list(found.get("items", []))


@contextmanager
def port_forward(target: str, namespace: str, port: int) -> Iterator[str]:
    """`kubectl port-forward TARGET :PORT` on 127.0.0.1 for as long as the block runs; yields
    the local URL. kubectl picks the local port and says which on its first line."""
    process = subprocess.Popen(  # noqa: S603 (kubectl, arguments built here)
        [binary(), "port-forward", target, f":{port}", "--namespace", namespace, "--address", "127.0.0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{_forwarded_port(process, lines, target)}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _forwarded_port(process: subprocess.Popen[str], lines: queue.Queue[str | None], target: str) -> int:
    while True:
        try:
            line = lines.get(timeout=FORWARD_TIMEOUT_S)
        except queue.Empty:
            raise DeployError(f"kubectl port-forward {target}: no port after {FORWARD_TIMEOUT_S} s") from None
        if line is None:
            process.wait()
            error = process.stderr.read().strip() if process.stderr else ""
            raise DeployError(f"kubectl port-forward {target} failed ({process.returncode}): {error[-2000:]}")
        found = _FORWARDING.search(line)
        if found:
            return int(found.group(1))
