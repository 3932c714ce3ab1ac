"""The scheduled drift workflow under act (GitHub's API mocked): a fresh copy, then configured.

Fresh copy, nothing configured: the only current data is the synthetic demo batch. Every
job is green, nothing is posted (synthetic data never raises a production issue) and the
run says what to configure. Then the team points `drift.file` at an export (a commit on
main). Run 1: the batch is found drifted, ONE issue labelled `drift` is opened with the
report, the report is uploaded, and keep-alive (told main has been quiet) re-enables the
workflow through the API. Run 2: the same issue is updated, not duplicated, and
keep-alive (main is not quiet) calls nothing. Each run reproduces the pipeline on the
sample: install, dvc repro, check (one to two minutes here). The retraining run is in
test_drift_retrain_workflow.py. Both run in `make test-workflows`.
"""

from __future__ import annotations

import json

import pytest

from tests.workflows.act import EVENTS, ActResult, ActSession
from tests.workflows.scenarios import configure_drift_file

pytestmark = [pytest.mark.act, pytest.mark.slow, pytest.mark.timeout(1800)]

DRIFT = ".github/workflows/drift.yml"
CHECK, KEEPALIVE = "Check drift", "Keep the schedule alive"


@pytest.fixture(scope="module")
def fresh(act_session: ActSession) -> ActResult:
    return act_session.run("schedule", EVENTS / "schedule.json", workflow=DRIFT)


@pytest.fixture(scope="module")
def first(act_session: ActSession, fresh: ActResult) -> ActResult:
    configure_drift_file(act_session)
    quiet = {"MLOPS_KEEPALIVE_AFTER_DAYS": "0"}  # as if main had been quiet for weeks
    return act_session.run("schedule", EVENTS / "schedule.json", workflow=DRIFT, env=quiet)


@pytest.fixture(scope="module")
def second(act_session: ActSession, first: ActResult) -> ActResult:
    return act_session.run("schedule", EVENTS / "schedule.json", workflow=DRIFT)


def test_a_fresh_copy_is_green_posts_nothing_and_says_what_to_configure_github_api_mocked(fresh: ActResult) -> None:
    assert fresh.succeeded, fresh.tail()
    assert fresh.jobs == {CHECK: "succeeded", KEEPALIVE: "succeeded"}  # retrain skipped: never on the demo
    assert fresh.issues == []
    assert fresh.pulls == []
    assert "DEMO (the synthetic sample, not production data): drift" in fresh.log
    assert "demo data (the synthetic sample): nothing posted" in fresh.log
    assert "set `drift.file` in params.yaml" in fresh.log
    assert "remove `sample` from `drift.sources`" in fresh.log
    report = json.loads((fresh.artifact("drift-report") / "drift.json").read_text(encoding="utf-8"))
    assert report["demo"] is True
    assert report["current"]["source"] == "sample"


def test_drift_opens_one_issue_with_the_report_github_api_mocked(first: ActResult) -> None:
    assert first.succeeded, first.tail()
    assert first.jobs == {CHECK: "succeeded", KEEPALIVE: "succeeded"}  # no retrain: params say no
    (issue,) = first.issues
    assert issue["labels"] == ["drift"]
    assert issue["title"] == "Data drift detected"
    assert "# Drift check: DRIFT" in issue["body"]
    assert "file data/current/batch.csv" in issue["body"]
    assert "DEMO" not in issue["body"]
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
