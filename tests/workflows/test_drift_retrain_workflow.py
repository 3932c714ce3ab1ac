"""The drift workflow asked to retrain, under act (GitHub's API and git server mocked).

A manual run with `retrain: yes`: the check finds the demo's drift, then the retrain job
appends the labelled batch to the training data, reruns the pipeline, pushes branch
drift-retrain and opens the one pull request for it. It costs a check and a second
pipeline run (about two minutes here); like every act test it runs in `make test-workflows`.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.workflows.act import EVENTS, ActResult, ActSession

pytestmark = [pytest.mark.act, pytest.mark.slow]

DRIFT = ".github/workflows/drift.yml"


@pytest.fixture(scope="module")
def dispatched(act_session: ActSession) -> ActResult:
    return act_session.run("workflow_dispatch", EVENTS / "workflow_dispatch_retrain.json", workflow=DRIFT)


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
    server = next((dispatched.github_dir / "git").glob("*/*.git"))
    changed = subprocess.run(
        ["git", "--git-dir", str(server), "show", "--name-only", "--format=", head],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert {"data/sample/customers.csv", "dvc.lock", "metrics/metrics.json"} <= set(changed)
