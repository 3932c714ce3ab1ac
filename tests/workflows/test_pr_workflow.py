"""The PR workflow and the pr-report workflow, run for real under act (GitHub's API mocked).

One simulated repository (see tests/workflows/act.py) goes through what a reviewer sees:
a same-repo PR is opened (every job of pr.yml runs, then pr-report.yml posts; with
REPORT_PUBLIC_PLOTS=true CML shows the plots), pushed to again (the repository is private:
the one comment is updated through gh, with no public image link), then given bad data
(the check fails and the comment says why); CML failing, or its setup failing, still
updates the one comment through gh; and a fork PR, for which GitHub names no PR in the
workflow_run event, is commented on too. Each pull_request run takes about a minute
(install, dvc repro on the 20k sample, report). Docs-only PRs: test_pr_docs_only_workflow.py.
"""

from __future__ import annotations

import re

import pytest

from tests.workflows.act import EVENTS, ActResult, ActSession
from tests.workflows.standins import fake_github

# A pull_request run is minutes on a busy machine; fixtures count against the first test's timeout.
pytestmark = [pytest.mark.act, pytest.mark.slow, pytest.mark.timeout(1800)]

PR = ".github/workflows/pr.yml"
REPORT = ".github/workflows/pr-report.yml"
REPORT_JOB = "Data gate, retrain and report"
POST_JOB = "Post the report on the pull request"
CHANGES_JOB, REQUIRED = "What changed", "CI OK"
PUBLIC_PLOTS = {"REPORT_PUBLIC_PLOTS": "true"}
# The test job runs the suite again inside act; the slow tests are already run outside it.
FAST_SUITE = {"TEST_MARKERS": "not act and not slow"}


def open_pr(session: ActSession, event: str = "pull_request.json", **options: object) -> ActResult:
    return session.run("pull_request", EVENTS / event, workflow=PR, **options)  # type: ignore[arg-type]


def post(
    session: ActSession,
    event: str = "workflow_run.json",
    *,
    cml: bool = True,
    env: dict[str, str] | None = None,
    variables: dict[str, str] | None = None,
) -> ActResult:
    return session.run("workflow_run", EVENTS / event, workflow=REPORT, cml=cml, env=env, variables=variables)


@pytest.fixture(scope="module")
def first_push(act_session: ActSession) -> tuple[ActResult, ActResult]:
    # The session's PR head is the working tree, which in a fresh clone equals the base branch:
    # a PR that changes nothing beyond docs skips its jobs, so this one changes params.yaml.
    params = (act_session.repo / "params.yaml").read_text(encoding="utf-8")
    act_session.commit("A first pull request", {"params.yaml": params + "# reviewed in a pull request\n"})
    return open_pr(act_session, env=FAST_SUITE), post(act_session, variables=PUBLIC_PLOTS)


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
    assert run.jobs == {
        CHANGES_JOB: "succeeded",
        "Lint and tests": "succeeded",
        REPORT_JOB: "succeeded",
        REQUIRED: "succeeded",
    }
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


def test_a_second_push_updates_the_one_comment_with_no_public_plots_github_api_mocked(
    second_push: tuple[ActResult, ActResult], first_push: tuple[ActResult, ActResult]
) -> None:
    run, posted = second_push
    assert run.succeeded, run.tail()
    assert posted.succeeded, posted.tail()
    comments = posted.comments_on(42)
    assert len(comments) == 1
    assert comments[0]["edits"] == 1
    body = comments[0]["body"]
    assert "| `train.model` | hist_gradient_boosting | logistic_regression |" in body
    # A private repository with no REPORT_PUBLIC_PLOTS: CML is not even installed, gh posts, plots are links.
    assert comments[0]["via"] == "gh"
    assert "https://asset." not in body
    assert body.count("(in the run's `pr-report` artifact)") == 4
    assert len(posted.assets) == len(first_push[1].assets)  # nothing uploaded this time
    assert "plots kept private" in posted.log


def test_bad_data_fails_the_check_and_the_comment_says_why_github_api_mocked(
    bad_data_push: tuple[ActResult, ActResult],
) -> None:
    run, posted = bad_data_push
    assert not run.succeeded
    assert run.jobs == {CHANGES_JOB: "succeeded", REPORT_JOB: "failed"}
    assert (run.artifact("pr-report") / "report.md").is_file()  # uploaded although the job failed
    assert posted.succeeded, posted.tail()
    comments = posted.comments_on(42)
    assert len(comments) == 1
    body = comments[0]["body"]
    assert "❌ not ready" in body
    assert "the data gate failed" in body
    assert "unknown category" in body
    assert "two-years-plus" in body


@pytest.mark.parametrize(
    ("cml", "failure", "said"),
    [
        (True, {"FAKE_CML_FAILS": "1"}, "cml failed, posted through the GitHub API instead"),
        (False, {"FAKE_SETUP_CML_FAILS": "1"}, "no cml on PATH, posted through the GitHub API"),
    ],
    ids=["cml-asset-host-down", "setup-cml-fails"],
)
def test_when_cml_fails_the_gh_path_updates_the_one_comment_github_api_mocked(
    act_session: ActSession,
    bad_data_push: tuple[ActResult, ActResult],
    cml: bool,
    failure: dict[str, str],
    said: str,
) -> None:
    edits = next(c["edits"] for c in fake_github.load(act_session.github_dir)["comments"] if c["issue"] == 42)
    posted = post(act_session, "workflow_run_failure.json", cml=cml, env=failure, variables=PUBLIC_PLOTS)
    assert posted.succeeded, posted.tail()
    assert posted.jobs == {POST_JOB: "succeeded"}
    assert said in posted.log
    comments = posted.comments_on(42)
    assert len(comments) == 1
    assert comments[0]["edits"] == edits + 1
    assert comments[0]["via"] == "gh"
    assert "the data gate failed" in comments[0]["body"]
    assert [call["argv"][0] for call in posted.state["calls"]][-1] == "api"  # posted through gh api


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
