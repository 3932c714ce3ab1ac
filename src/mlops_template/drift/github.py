"""What the scheduled workflow tells GitHub: the one drift issue and the retraining pull request.

- `publish_result`: on drift, ONE open issue carries the latest report. The issue is
  found by its label (`drift.issue.label`), so every later run updates that issue instead
  of opening another; after someone closes it, the next drift opens a new one. No drift:
  nothing is posted. The demo (the current batch is the synthetic `sample`, as on a fresh
  copy) is never posted either: made-up data must not raise a production issue, so the
  run's summary says how to point the check at real data instead. Also writes the job
  outputs (`drifted`, `retrain`, `demo`) and the run's step summary.
- `open_retrain_pull_request`: opens the one pull request for the pushed retraining
  branch, or leaves the open one to show the new push; when the repository does not let
  GitHub Actions open pull requests, it says which setting (or token) to change.

The calls go through the shared client (mlops_template.github_api); keep-alive is in
drift/keepalive.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from mlops_template.github_api import (
    ACTIONS_MAY_NOT_CREATE_PULLS,
    GitHubError,
    gh,
    repository,
    with_body,
    write_outputs,
    write_summary,
)
from mlops_template.params import Params

__all__ = ["GitHubError", "Published", "gh", "open_retrain_pull_request", "publish_result", "write_outputs"]

LABEL_COLOR = "d93f0b"
RetrainChoice = Literal["params", "yes", "no", ""]
DEMO_HELP = (
    "The current batch is the synthetic demo sample (`sample` in `drift.sources`), not production data, "
    "so no issue is opened and nothing is retrained. To check real data: set `drift.file` in params.yaml "
    "(a CSV/Parquet path, an http(s) URL, or a DVC-tracked file pulled from the DVC remote: repository "
    "variables `DVC_REMOTE_URL` and `DVC_READ_ROLE_ARN`), or deploy the service so that its inference log "
    "(`paths.inference_log_dir`) fills; then remove `sample` from `drift.sources`, so that an empty source "
    "fails the check instead of showing the demo."
)


def is_demo(document: dict[str, Any]) -> bool:
    """The check compared the synthetic demo batch, not data the model really met."""
    return bool(document.get("demo")) or (document.get("current") or {}).get("source") == "sample"


def wants_retrain(params: Params, choice: str) -> bool:
    """The dispatch input (`yes`/`no`) wins; otherwise (`params` or a scheduled run) params.yaml decides."""
    if choice == "yes":
        return True
    if choice == "no":
        return False
    return params.drift.retrain.enabled


@dataclass(frozen=True)
class Published:
    action: Literal["nothing", "demo", "created", "updated"]
    number: int | None = None
    url: str | None = None

    def describe(self) -> str:
        if self.action == "nothing":
            return "no drift: nothing posted"
        if self.action == "demo":
            return "demo data (the synthetic sample): nothing posted. " + DEMO_HELP
        return f"{self.action} drift issue #{self.number}" + (f" ({self.url})" if self.url else "")


def open_drift_issues(label: str) -> list[int]:
    listed = json.loads(gh("issue", "list", "--label", label, "--state", "open", "--json", "number", "--limit", "100"))
    return sorted(int(item["number"]) for item in listed)


def upsert_issue(params: Params, body: str) -> Published:
    """Update the open issue with the label, or open one: never two open at once."""
    settings = params.drift.issue
    description = "Opened and updated by the scheduled drift check"
    gh("label", "create", settings.label, "--color", LABEL_COLOR, "--description", description, "--force")
    existing = open_drift_issues(settings.label)
    if existing:
        number = existing[0]  # the oldest open one; a human-opened duplicate is left alone
        with_body(body, "issue", "edit", str(number))
        return Published("updated", number)
    url = with_body(body, "issue", "create", "--title", settings.title, "--label", settings.label).strip()
    tail = url.rstrip("/").rsplit("/", 1)[-1]
    return Published("created", int(tail) if tail.isdigit() else None, url or None)


def publish_result(params: Params, document: dict[str, Any], run_url: str | None, retrain_choice: str) -> Published:
    """Post what the check found: the issue on real drift, nothing otherwise; outputs for the workflow."""
    from mlops_template.drift.report import issue_body  # the numeric stack, only needed here

    status = document.get("status")
    if status == "could not check":
        raise GitHubError(f"the drift check could not run, nothing to post: {document.get('summary')}")
    drifted, demo = status == "drift", is_demo(document)
    retrain = drifted and not demo and wants_retrain(params, retrain_choice)
    write_outputs({"drifted": str(drifted).lower(), "retrain": str(retrain).lower(), "demo": str(demo).lower()})
    body = issue_body(document, run_url)
    if demo:
        write_summary(f"## Drift check on demo data: nothing posted\n\n{DEMO_HELP}\n\n{body}")
        return Published("demo")
    write_summary(body)
    if not drifted:
        return Published("nothing")
    return upsert_issue(params, body)


def may_not_create_pulls(branch: str, base: str) -> str:
    """What to do when GitHub will not let this workflow's token open the pull request."""
    try:
        where = repository()
    except GitHubError:
        where = "OWNER/REPO"
    compare = f"https://github.com/{where}/compare/{base}...{branch}"
    return (
        "GitHub refused to open the retraining pull request: the repository setting "
        '"Allow GitHub Actions to create and approve pull requests" is off (Settings → Actions → General → '
        "Workflow permissions). Turn it on, or store a fine-grained token (contents and pull requests: write) "
        f"as the secret RETRAIN_TOKEN. Branch {branch} is pushed: open its pull request by hand at {compare}"
    )


def open_retrain_pull_request(params: Params, branch: str, base: str, title: str, body: str) -> str:
    """Open the retraining pull request, or name the open one (the push already updated it)."""
    listed = json.loads(gh("pr", "list", "--head", branch, "--state", "open", "--json", "number,url"))
    if listed:
        return f"updated pull request #{listed[0]['number']} {listed[0].get('url') or ''}".strip()
    label = params.drift.issue.label
    try:
        url = with_body(body, "pr", "create", "--base", base, "--head", branch, "--title", title, "--label", label)
    except GitHubError as exc:
        if ACTIONS_MAY_NOT_CREATE_PULLS in str(exc):
            raise GitHubError(may_not_create_pulls(branch, base)) from exc
        raise
    return f"opened pull request {url.strip()}"
