"""The scheduled drift workflow, run twice for real under act (GitHub's API mocked).

Run 1 (schedule): the demo's drifted batch is found drifted, ONE issue labelled `drift` is
opened with the report, the report is uploaded, and keep-alive (told main is quiet)
re-enables the workflow through the API. Run 2 (a manual run asking to retrain): the
same issue is updated, not duplicated, and the retrain job pushes branch drift-retrain
and opens the one pull request for it. Each run reproduces the pipeline on the sample
(install + dvc repro + check: about two minutes here; the retrain job as long again).
"""

from __future__ import annotations

import subprocess

import pytest

from tests.workflows.act import EVENTS, ActResult, ActSession

pytestmark = [pytest.mark.act, pytest.mark.slow]

DRIFT = ".github/workflows/drift.yml"
CHECK, RETRAIN, KEEPALIVE = "Check drift", "Retrain and open a pull request", "Keep the schedule alive"


@pytest.fixture(scope="module")
def scheduled(act_session: ActSession) -> ActResult:
    return act_session.run(
        "schedule", EVENTS / "schedule.json", workflow=DRIFT, env={"MLOPS_KEEPALIVE_AFTER_DAYS": "0"}
    )


@pytest.fixture(scope="module")
def dispatched(act_session: ActSession, scheduled: ActResult) -> ActResult:
    return act_session.run("workflow_dispatch", EVENTS / "workflow_dispatch_retrain.json", workflow=DRIFT)


def test_drift_opens_one_issue_with_the_report_github_api_mocked(scheduled: ActResult) -> None:
    assert scheduled.succeeded, scheduled.tail()
    assert scheduled.jobs == {CHECK: "succeeded", KEEPALIVE: "succeeded"}  # no retrain: params say no
    (issue,) = scheduled.issues
    assert issue["labels"] == ["drift"]
    assert issue["title"] == "Data drift detected"
    assert "# Drift check: DRIFT" in issue["body"]
    assert "| feature | kind | test | statistic | p (adj.) | PSI |" in issue["body"]
    assert "actions/runs/" in issue["body"]  # plots: a link to the run's artifact
    report = scheduled.artifact("drift-report")
    assert (report / "drift.md").is_file()
    assert '"status": "drift"' in (report / "drift.json").read_text(encoding="utf-8")
    assert list((report / "plots").glob("*.png"))


def test_keepalive_re_enables_the_workflow_through_the_api_github_api_mocked(scheduled: ActResult) -> None:
    assert scheduled.workflows["drift.yml"]["enable_calls"] == 1
    assert "re-enabled drift.yml through the API (no commit)" in scheduled.log


def test_a_second_run_updates_the_same_issue_github_api_mocked(scheduled: ActResult, dispatched: ActResult) -> None:
    assert dispatched.succeeded, dispatched.tail()
    assert dispatched.jobs == {CHECK: "succeeded", RETRAIN: "succeeded"}  # keep-alive: schedule only
    assert len(dispatched.issues) == 1
    assert dispatched.issues[0]["number"] == scheduled.issues[0]["number"]
    assert "updated drift issue" in dispatched.log


def test_retraining_pushes_a_branch_and_opens_one_pull_request_github_api_mocked(dispatched: ActResult) -> None:
    (pull,) = [p for p in dispatched.pulls if p.get("head", {}).get("ref") == "drift-retrain"]
    assert pull["base"] == "main"
    assert pull["labels"] == ["drift"]
    assert "labelled rows" in pull["body"]
    head = dispatched.pushed("drift-retrain")
    assert head is not None
    assert head == pull["head"]["sha"]
    server = next((dispatched.github_dir / "git").glob("*/*.git"))
    changed = subprocess.run(
        ["git", "--git-dir", str(server), "show", "--name-only", "--format=", head],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "data/sample/customers.csv" in changed
    assert "dvc.lock" in changed
    assert "metrics/metrics.json" in changed
