"""The PR workflow and the pr-report workflow, run for real under act (GitHub's API mocked).

One simulated repository (see tests/workflows/act.py) goes through what a reviewer sees:
a same-repo PR is opened (both jobs of pr.yml run, then pr-report.yml posts), pushed to
again (the one comment is updated, not duplicated), then given bad data (the check fails
and the comment says why); a fork PR, for which GitHub names no PR in the workflow_run
event, is commented on too; and without CML the gh fallback updates the same comment.
Each pull_request run takes about a minute (install, dvc repro on the 20k sample, report).
"""

from __future__ import annotations

import re

import pytest

from tests.workflows.act import EVENTS, ActResult, ActSession

pytestmark = [pytest.mark.act, pytest.mark.slow]

PR = ".github/workflows/pr.yml"
REPORT = ".github/workflows/pr-report.yml"
REPORT_JOB = "Data gate, retrain and report"
POST_JOB = "Post the report on the pull request"
# The test job runs the suite again inside act; the slow tests are already run outside it.
FAST_SUITE = {"PYTEST_ADDOPTS": "-m 'not slow'"}


def open_pr(session: ActSession, event: str = "pull_request.json", **options: object) -> ActResult:
    return session.run("pull_request", EVENTS / event, workflow=PR, **options)  # type: ignore[arg-type]


def post(session: ActSession, event: str = "workflow_run.json", *, cml: bool = True) -> ActResult:
    return session.run("workflow_run", EVENTS / event, workflow=REPORT, cml=cml)


@pytest.fixture(scope="module")
def first_push(act_session: ActSession) -> tuple[ActResult, ActResult]:
    return open_pr(act_session, env=FAST_SUITE), post(act_session)


@pytest.fixture(scope="module")
def second_push(act_session: ActSession, first_push: tuple[ActResult, ActResult]) -> tuple[ActResult, ActResult]:
    params = (act_session.repo / "params.yaml").read_text(encoding="utf-8")
    act_session.commit(
        "Try logistic regression",
        {"params.yaml": params.replace("model: hist_gradient_boosting", "model: logistic_regression", 1)},
    )
    return open_pr(act_session, job="report"), post(act_session)


@pytest.fixture(scope="module")
def bad_data_push(act_session: ActSession, second_push: tuple[ActResult, ActResult]) -> tuple[ActResult, ActResult]:
    sample = (act_session.repo / "data/sample/customers.csv").read_text(encoding="utf-8")
    act_session.commit("New export", {"data/sample/customers.csv": sample.replace(",two_year,", ",two-years-plus,")})
    return open_pr(act_session, job="report"), post(act_session, "workflow_run_failure.json")


def test_both_jobs_of_the_pr_workflow_succeed_and_upload_the_report(first_push: tuple[ActResult, ActResult]) -> None:
    run, _ = first_push
    assert run.succeeded, run.tail()
    assert run.jobs == {"Lint and tests": "succeeded", REPORT_JOB: "succeeded"}
    report = run.artifact("pr-report")
    assert (report / "report.md").is_file()
    assert {p.name for p in report.glob("*.png")} == {
        "roc.png",
        "precision_recall.png",
        "confusion.png",
        "calibration.png",
    }


def test_the_comment_has_the_metrics_table_the_gate_summary_and_the_plots_github_api_mocked(
    first_push: tuple[ActResult, ActResult],
) -> None:
    _, posted = first_push
    assert posted.succeeded, posted.tail()
    assert posted.jobs == {POST_JOB: "succeeded"}
    comments = posted.comments_on(42)
    assert len(comments) == 1
    body = comments[0]["body"]
    assert "## 🔬 Model report: ✅ ready to merge" in body
    assert "| metric | main | this PR | change | verdict |" in body
    assert re.search(r"\| roc_auc ↑ \| 0\.\d{4} \| 0\.\d{4} \|", body)
    assert "### Data gate: ✅ passed" in body
    assert "### Model-quality gate: ✅ passed" in body
    images = re.findall(r"!\[[^\]]*\]\((https://asset\.cml\.test/[^)]+)\)", body)
    assert len(images) == 4  # ROC, precision-recall, confusion, calibration, uploaded by cml
    assert len(posted.assets) == 4
    assert all(a["source"].endswith(".png") for a in posted.assets)
    assert not posted.state.get("missing_assets")
    assert "CML watermark mlops-template PR report" in body


def test_a_second_push_updates_the_one_comment_github_api_mocked(second_push: tuple[ActResult, ActResult]) -> None:
    run, posted = second_push
    assert run.succeeded, run.tail()
    assert posted.succeeded, posted.tail()
    comments = posted.comments_on(42)
    assert len(comments) == 1
    assert comments[0]["edits"] == 1
    assert "| `train.model` | hist_gradient_boosting | logistic_regression |" in comments[0]["body"]


def test_bad_data_fails_the_check_and_the_comment_says_why_github_api_mocked(
    bad_data_push: tuple[ActResult, ActResult],
) -> None:
    run, posted = bad_data_push
    assert not run.succeeded
    assert run.jobs == {REPORT_JOB: "failed"}
    assert (run.artifact("pr-report") / "report.md").is_file()  # uploaded although the job failed
    assert posted.succeeded, posted.tail()
    comments = posted.comments_on(42)
    assert len(comments) == 1
    body = comments[0]["body"]
    assert "❌ not ready" in body
    assert "the data gate failed" in body
    assert "unknown category" in body
    assert "two-years-plus" in body


def test_without_cml_the_gh_fallback_updates_the_same_comment_github_api_mocked(
    act_session: ActSession, bad_data_push: tuple[ActResult, ActResult]
) -> None:
    edits = bad_data_push[1].comments_on(42)[0]["edits"]
    posted = post(act_session, "workflow_run_failure.json", cml=False)
    assert posted.succeeded, posted.tail()
    assert "no cml on PATH" in posted.log
    assert "updated comment" in posted.log
    comments = posted.comments_on(42)
    assert len(comments) == 1
    assert comments[0]["edits"] == edits + 1
    assert "the data gate failed" in comments[0]["body"]
    assert [call["argv"][0] for call in posted.state["calls"]][-1] == "api"  # posted through gh api, not cml


def test_a_fork_pr_gets_its_comment_through_workflow_run_github_api_mocked(act_session: ActSession) -> None:
    act_session.commit(
        "Fork: back to good data",
        {"data/sample/customers.csv": (act_session.source / "data/sample/customers.csv").read_text(encoding="utf-8")},
    )
    run = open_pr(act_session, "pull_request_fork.json", job="report")
    assert run.succeeded, run.tail()
    posted = post(act_session, "workflow_run_fork.json")  # GitHub names no PR for forks
    assert posted.succeeded, posted.tail()
    assert len(posted.comments_on(43)) == 1
    assert {c["issue"] for c in posted.comments} <= {42, 43}  # the fork PR is the only one it touched
    assert "PR #43" in posted.comments_on(43)[0]["body"]
