"""What the scheduled workflow tells GitHub, through the GitHub CLI (`gh`).

- `publish_result`: on drift, ONE open issue carries the latest report. The issue is
  found by its label (`drift.issue.label`), so every later run updates that issue instead
  of opening another; after someone closes it, the next drift opens a new one. No drift:
  nothing is posted. Also writes the job outputs (`drifted`, `retrain`) and the run's
  step summary.
- `open_retrain_pull_request`: pushes the retraining branch and opens the one pull request
  for it, or leaves the open one to show the new push.
- `keep_alive`: GitHub disables a scheduled workflow after 60 days without activity in
  the repository. Re-enabling it through the API (`PUT .../actions/workflows/{id}/enable`)
  resets that clock without a commit; it is done once the default branch has been quiet
  for `drift.keepalive_after_days`.

`gh` reads its token from GH_TOKEN (or GITHUB_TOKEN); under act it is the recording
stand-in from tests/workflows/standins.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mlops_template.params import Params

LABEL_COLOR = "d93f0b"
RetrainChoice = Literal["params", "yes", "no", ""]


class GitHubError(RuntimeError):
    """A `gh` call failed; the message names the command and GitHub's answer."""


def gh(*args: str) -> str:
    try:
        # S603/S607: fixed program, arguments built here (never a shell); gh is found on PATH like git
        result = subprocess.run(["gh", *args], capture_output=True, text=True, check=False)  # noqa: S603, S607
    except FileNotFoundError as exc:
        raise GitHubError("the GitHub CLI `gh` is not installed (https://cli.github.com)") from exc
    if result.returncode != 0:
        raise GitHubError(f"`gh {' '.join(args[:2])}` failed: {(result.stderr or result.stdout).strip()}")
    return result.stdout


def _with_body(body: str, *args: str) -> str:
    """Run gh with the body in a temporary file (`--body-file`): no size or quoting limits."""
    with tempfile.NamedTemporaryFile("w", suffix=".md", encoding="utf-8", delete=False) as handle:
        handle.write(body)
        path = handle.name
    try:
        return gh(*args, "--body-file", path)
    finally:
        Path(path).unlink(missing_ok=True)


def write_outputs(values: dict[str, str]) -> None:
    """Step outputs for later jobs (`$GITHUB_OUTPUT`); nothing outside GitHub Actions."""
    target = os.environ.get("GITHUB_OUTPUT")
    if target:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.writelines(f"{key}={value}\n" for key, value in values.items())


def write_summary(markdown: str) -> None:
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(markdown)


def wants_retrain(params: Params, choice: str) -> bool:
    """The dispatch input (`yes`/`no`) wins; otherwise (`params` or a scheduled run) params.yaml decides."""
    if choice == "yes":
        return True
    if choice == "no":
        return False
    return params.drift.retrain.enabled


@dataclass(frozen=True)
class Published:
    action: Literal["nothing", "created", "updated"]
    number: int | None = None
    url: str | None = None

    def describe(self) -> str:
        if self.action == "nothing":
            return "no drift: nothing posted"
        return f"{self.action} drift issue #{self.number}" + (f" ({self.url})" if self.url else "")


def open_drift_issues(label: str) -> list[int]:
    listed = json.loads(gh("issue", "list", "--label", label, "--state", "open", "--json", "number", "--limit", "100"))
    return sorted(int(item["number"]) for item in listed)


def upsert_issue(params: Params, document: dict[str, Any], run_url: str | None) -> Published:
    """Update the open issue with the label, or open one: never two open at once."""
    from mlops_template.drift.report import issue_body

    settings = params.drift.issue
    body = issue_body(document, run_url)
    gh(
        "label",
        "create",
        settings.label,
        "--color",
        LABEL_COLOR,
        "--description",
        "Opened and updated by the scheduled drift check",
        "--force",
    )
    existing = open_drift_issues(settings.label)
    if existing:
        number = existing[0]  # the oldest open one; a human-opened duplicate is left alone
        _with_body(body, "issue", "edit", str(number))
        return Published("updated", number)
    url = _with_body(body, "issue", "create", "--title", settings.title, "--label", settings.label).strip()
    tail = url.rstrip("/").rsplit("/", 1)[-1]
    return Published("created", int(tail) if tail.isdigit() else None, url or None)


def publish_result(params: Params, document: dict[str, Any], run_url: str | None, retrain_choice: str) -> Published:
    """Post what the check found: the issue on drift, nothing otherwise; outputs for the workflow."""
    status = document.get("status")
    if status == "could not check":
        raise GitHubError(f"the drift check could not run, nothing to post: {document.get('summary')}")
    drifted = status == "drift"
    retrain = drifted and wants_retrain(params, retrain_choice)
    write_outputs({"drifted": str(drifted).lower(), "retrain": str(retrain).lower()})
    from mlops_template.drift.report import issue_body  # the numeric stack, not needed by keep_alive

    write_summary(issue_body(document, run_url))
    if not drifted:
        return Published("nothing")
    return upsert_issue(params, document, run_url)


def open_retrain_pull_request(params: Params, branch: str, base: str, title: str, body: str) -> str:
    """Open the retraining pull request, or name the open one (the push already updated it)."""
    listed = json.loads(gh("pr", "list", "--head", branch, "--state", "open", "--json", "number,url"))
    if listed:
        return f"updated pull request #{listed[0]['number']} {listed[0].get('url') or ''}".strip()
    label = params.drift.issue.label
    url = _with_body(body, "pr", "create", "--base", base, "--head", branch, "--title", title, "--label", label)
    return f"opened pull request {url.strip()}"


def days_since_last_commit(repo: Path = Path()) -> float:
    result = subprocess.run(
        ["git", "log", "-1", "--format=%ct"],  # noqa: S607
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not result.stdout.strip():
        raise GitHubError(f"cannot read the last commit's date: {result.stderr.strip() or 'no commits'}")
    return (time.time() - int(result.stdout.strip())) / 86_400


def workflow_file() -> str:
    """This workflow's file name, from GITHUB_WORKFLOW_REF (owner/repo/.github/workflows/x.yml@ref)."""
    ref = os.environ.get("GITHUB_WORKFLOW_REF", "")
    name = ref.split("@", 1)[0].rsplit("/", 1)[-1]
    return name or "drift.yml"


def keep_alive(after_days: float, workflow: str | None = None, repo: Path = Path()) -> str:
    """Re-enable the scheduled workflow through the API once the repository has been quiet."""
    quiet = days_since_last_commit(repo)
    if quiet < after_days:
        return f"last commit {quiet:.0f} days ago (< {after_days:g}): nothing to do"
    name = workflow or workflow_file()
    repository = os.environ.get("GITHUB_REPOSITORY", "{owner}/{repo}")
    gh("api", "--method", "PUT", f"repos/{repository}/actions/workflows/{name}/enable", "--silent")
    return f"last commit {quiet:.0f} days ago: re-enabled {name} through the API (no commit)"
