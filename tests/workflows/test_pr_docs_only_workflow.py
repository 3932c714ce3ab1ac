"""A pull request that changes only documentation, under act (GitHub's API mocked).

pr.yml has no paths filter, so the required check reports on every pull request: "What
changed" finds documentation only, the tests and the report are skipped (nothing to
install, seconds instead of minutes), and "CI OK", the one required check, passes. The
pr-report workflow that follows finds no report to post and says so. No pipeline runs.
"""

from __future__ import annotations

import pytest

from tests.workflows.act import EVENTS, ActResult, ActSession

pytestmark = [pytest.mark.act, pytest.mark.slow]

PR = ".github/workflows/pr.yml"
REPORT = ".github/workflows/pr-report.yml"


@pytest.fixture(scope="module")
def docs_pr(act_session: ActSession) -> tuple[ActResult, ActResult]:
    act_session.make_base()  # main is this working tree; the pull request adds only documentation
    act_session.commit(
        "Docs: explain the drift report",
        {"docs/drift-faq.md": "# Drift FAQ\n\nWhat the report means.\n", "README.md": "# A shorter front page\n"},
    )
    run = act_session.run("pull_request", EVENTS / "pull_request.json", workflow=PR)
    posted = act_session.run("workflow_run", EVENTS / "workflow_run.json", workflow=REPORT)
    return run, posted


def test_a_docs_only_pr_reports_the_required_check_green_without_running_the_pipeline(
    docs_pr: tuple[ActResult, ActResult],
) -> None:
    run, _ = docs_pr
    assert run.succeeded, run.tail()
    assert run.jobs == {"What changed": "succeeded", "CI OK": "succeeded"}  # tests and report: skipped
    assert "code=false" in run.log
    assert "Only documentation changed: the tests and the report are not needed." in run.log
    assert "dvc repro" not in run.log
    assert not run.artifact("pr-report").exists()


def test_the_report_workflow_then_posts_nothing_and_says_why_github_api_mocked(
    docs_pr: tuple[ActResult, ActResult],
) -> None:
    _, posted = docs_pr
    assert posted.succeeded, posted.tail()
    assert "The PR run uploaded no pr-report artifact (only documentation changed" in posted.log
    assert posted.comments == []


def test_a_code_change_after_it_needs_the_tests_again(
    act_session: ActSession, docs_pr: tuple[ActResult, ActResult]
) -> None:
    act_session.commit(
        "Also a typo in the Makefile's help", {"Makefile": (act_session.repo / "Makefile").read_text() + "\n"}
    )
    run = act_session.run("pull_request", EVENTS / "pull_request.json", workflow=PR, job="changes")
    assert run.succeeded, run.tail()
    assert "code=true" in run.log
