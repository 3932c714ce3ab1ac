"""Retraining after drift under act, with a DVC remote (GitHub's API and git server mocked), and the
retraining pull request's own CI.

The team has pointed `drift.file` at a labelled export and set DVC_REMOTE_URL (here a local
folder: DVC's local remote, the same code path as S3 minus the network). A manual run with
`retrain: yes`: the check finds drift, then the retrain job writes the labelled rows as a
new training input of their own (data/labelled/<date>.csv, DVC-tracked and pushed to the
remote; data/sample untouched), lists it in data.extra_inputs, reruns the pipeline, pushes
branch drift-retrain and opens the one pull request. Then pr.yml runs on that branch as
GitHub would run it: it pulls the new batch from the remote, the whole test suite and the
report pass, and "CI OK" is green. Ten to twenty minutes here.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.workflows.act import EVENTS, ActResult, ActSession
from tests.workflows.scenarios import configure_drift_file

# The retraining run and then the whole PR workflow on its branch: tens of minutes on a busy machine.
pytestmark = [pytest.mark.act, pytest.mark.slow, pytest.mark.timeout(3600)]

DRIFT = ".github/workflows/drift.yml"
PR = ".github/workflows/pr.yml"


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dvc-remote")


@pytest.fixture(scope="module")
def dispatched(act_session: ActSession, remote: Path) -> ActResult:
    configure_drift_file(act_session)
    act_session.make_base()  # that configuration is on main: the retraining PR is based on it
    return act_session.run(
        "workflow_dispatch",
        EVENTS / "workflow_dispatch_retrain.json",
        workflow=DRIFT,
        variables={"DVC_REMOTE_URL": str(remote)},
    )


@pytest.fixture(scope="module")
def retraining_pr(act_session: ActSession, dispatched: ActResult, remote: Path) -> ActResult:
    assert dispatched.succeeded, dispatched.tail()
    act_session.check_out_pushed("drift-retrain")
    return act_session.run(
        "pull_request",
        EVENTS / "pull_request.json",
        workflow=PR,  # the whole suite, slow tests included, as GitHub runs it on this branch
        variables={"DVC_REMOTE_URL": str(remote)},
    )


def pushed_files(result: ActResult, commit: str) -> set[str]:
    server = next((result.github_dir / "git").glob("*/*.git"))
    shown = subprocess.run(
        ["git", "--git-dir", str(server), "show", "--name-only", "--format=", commit],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(shown.stdout.split())


def test_retraining_pushes_a_branch_and_opens_one_pull_request_github_api_mocked(dispatched: ActResult) -> None:
    assert dispatched.succeeded, dispatched.tail()
    assert dispatched.jobs == {"Check drift": "succeeded", "Retrain and open a pull request": "succeeded"}
    assert len(dispatched.issues) == 1
    (pull,) = [p for p in dispatched.pulls if p.get("head", {}).get("ref") == "drift-retrain"]
    assert pull["base"] == "main"
    assert pull["labels"] == ["drift"]
    assert "labelled rows" in pull["body"]
    head = dispatched.pushed("drift-retrain")
    assert head is not None
    assert head == pull["head"]["sha"]


def test_the_new_rows_are_a_dvc_tracked_input_of_their_own_on_the_remote(dispatched: ActResult, remote: Path) -> None:
    head = dispatched.pushed("drift-retrain")
    assert head is not None
    changed = pushed_files(dispatched, head)
    (tracked,) = [name for name in changed if name.startswith("data/labelled/") and name.endswith(".csv.dvc")]
    data_file = tracked.removesuffix(".dvc")
    assert {"params.yaml", "dvc.lock", "data/labelled/.gitignore"} <= changed
    assert "data/sample/customers.csv" not in changed  # the embedded sample stays what the generator writes
    assert data_file not in changed  # the data itself is on the remote, not in git
    server = next((dispatched.github_dir / "git").glob("*/*.git"))

    def show(path: str) -> str:
        return subprocess.run(
            ["git", "--git-dir", str(server), "show", f"{head}:{path}"], capture_output=True, text=True, check=True
        ).stdout

    assert yaml.safe_load(show("params.yaml"))["data"]["extra_inputs"] == [data_file]
    md5 = yaml.safe_load(show(tracked))["outs"][0]["md5"]
    assert (remote / "files" / "md5" / md5[:2] / md5[2:]).is_file()  # pushed before the branch


def test_the_retraining_pull_request_passes_its_own_ci_github_api_mocked(retraining_pr: ActResult) -> None:
    assert retraining_pr.succeeded, retraining_pr.tail()
    assert retraining_pr.jobs == {
        "What changed": "succeeded",
        "Lint and tests": "succeeded",
        "Data gate, retrain and report": "succeeded",
        "CI OK": "succeeded",
    }
    report = (retraining_pr.artifact("pr-report") / "report.md").read_text(encoding="utf-8")
    assert "✅ ready to merge" in report
