"""The scheduled drift workflow, run twice for real under act (GitHub's API mocked).

Run 1: the demo's drifted batch is found drifted, ONE issue labelled `drift` is opened
with the report, the report is uploaded, and keep-alive (told main has been quiet)
re-enables the workflow through the API. Run 2: the same issue is updated, not
duplicated, and keep-alive (main is not quiet) calls nothing. Each run reproduces the
pipeline on the sample: install, dvc repro, check (one to two minutes here).
The retraining run is in test_drift_retrain_workflow.py. Both run in `make test-workflows`.
"""

from __future__ import annotations

import pytest

from tests.workflows.act import EVENTS, ActResult, ActSession

pytestmark = [pytest.mark.act, pytest.mark.slow]

DRIFT = ".github/workflows/drift.yml"
CHECK, KEEPALIVE = "Check drift", "Keep the schedule alive"


@pytest.fixture(scope="module")
def first(act_session: ActSession) -> ActResult:
    quiet = {"MLOPS_KEEPALIVE_AFTER_DAYS": "0"}  # as if main had been quiet for weeks
    return act_session.run("schedule", EVENTS / "schedule.json", workflow=DRIFT, env=quiet)


@pytest.fixture(scope="module")
def second(act_session: ActSession, first: ActResult) -> ActResult:
    return act_session.run("schedule", EVENTS / "schedule.json", workflow=DRIFT)


def test_drift_opens_one_issue_with_the_report_github_api_mocked(first: ActResult) -> None:
    assert first.succeeded, first.tail()
    assert first.jobs == {CHECK: "succeeded", KEEPALIVE: "succeeded"}  # no retrain: params say no
    (issue,) = first.issues
    assert issue["labels"] == ["drift"]
    assert issue["title"] == "Data drift detected"
    assert "# Drift check: DRIFT" in issue["body"]
    assert "| feature | kind | test | statistic | p (adj.) | PSI |" in issue["body"]
    assert "actions/runs/" in issue["body"]  # the plots: a link to the run's artifact
    report = first.artifact("drift-report")
    assert (report / "drift.md").is_file()
    assert '"status": "drift"' in (report / "drift.json").read_text(encoding="utf-8")
    assert list((report / "plots").glob("*.png"))


def test_keepalive_re_enables_the_workflow_through_the_api_github_api_mocked(first: ActResult) -> None:
    assert first.workflows["drift.yml"]["enable_calls"] == 1
    assert "re-enabled drift.yml through the API (no commit)" in first.log


def test_a_second_run_updates_the_same_issue_not_a_new_one_github_api_mocked(
    first: ActResult, second: ActResult
) -> None:
    assert second.succeeded, second.tail()
    assert second.jobs == {CHECK: "succeeded", KEEPALIVE: "succeeded"}
    assert len(second.issues) == 1
    assert second.issues[0]["number"] == first.issues[0]["number"]
    assert "updated drift issue" in second.log
    assert second.workflows["drift.yml"]["enable_calls"] == 1  # main is not quiet: no API call, no commit
    assert "nothing to do" in second.log
