"""What the drift workflow's commands tell GitHub, against the recording `gh` stand-in.

Only GitHub's API is mocked (tests/workflows/standins): the commands run `gh` as in the
workflow. Covered: no drift posts nothing; drift opens one issue and later runs update it;
a closed issue is not reopened, the next drift opens a new one; the job outputs; the
retraining pull request is opened once; keep-alive calls the API only when main is quiet.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mlops_template.drift import github, keepalive, retrain
from mlops_template.drift.check import settings_summary
from mlops_template.drift.sources import CurrentBatch
from mlops_template.params import Params, load_params
from tests.example import example_only
from tests.example.drift_world import REPO
from tests.workflows.act import STANDINS
from tests.workflows.standins import fake_github

pytestmark = example_only

REPOSITORY = "acme/mlops-template"


@pytest.fixture
def fake_gh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`gh` on PATH is the stand-in, recording into a fresh fake GitHub."""
    state = tmp_path / "github"
    monkeypatch.setenv("PATH", f"{STANDINS / 'gh'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_GITHUB_DIR", str(state))
    monkeypatch.setenv("GITHUB_REPOSITORY", REPOSITORY)
    monkeypatch.setenv("GH_TOKEN", "fake")
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    return state


@pytest.fixture(scope="module")
def params() -> Params:
    return load_params(REPO / "params.yaml")


def document(status: str, summary: str = "drift: 1 drifted (age); score 1 ≥ 1") -> dict[str, Any]:
    return {
        "status": status,
        "exit_code": {"drift": 3, "no drift": 0, "could not check": 4}[status],
        "summary": summary,
        "checked_at": "2026-01-01T00:00:00+00:00",
        "duration_seconds": 1.0,
        "settings": settings_summary(load_params(REPO / "params.yaml").drift),
        "current": {"description": "a test batch", "rows": 1000},
        "reference": {"path": "data/split/train.parquet", "rows": 16000},
        "score": 1.0,
        "trigger_score": 1.0,
        "tests": 2,
        "features": [],
        "prediction": None,
        "performance": None,
        "notes": [],
    }


def state(directory: Path) -> dict[str, Any]:
    return fake_github.load(directory)


def outputs(fake: Path) -> dict[str, str]:
    lines = (fake.parent / "outputs").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines)


def test_no_drift_posts_nothing_github_api_mocked(fake_gh: Path, params: Params) -> None:
    published = github.publish_result(params, document("no drift", "no drift in 16 features"), None, "")
    assert published.action == "nothing"
    assert state(fake_gh)["issues"] == []
    assert outputs(fake_gh) == {"drifted": "false", "retrain": "false", "demo": "false"}
    assert "no drift in 16 features" in (fake_gh.parent / "summary.md").read_text(encoding="utf-8")


def test_drift_opens_one_issue_then_updates_it_github_api_mocked(fake_gh: Path, params: Params) -> None:
    first = github.publish_result(params, document("drift"), "https://example.test/run/1", "")
    second = github.publish_result(params, document("drift", "drift: 2 drifted (age, plan)"), None, "")
    assert (first.action, second.action) == ("created", "updated")
    assert first.number == second.number
    (issue,) = state(fake_gh)["issues"]
    assert issue["labels"] == [params.drift.issue.label]
    assert "2 drifted (age, plan)" in issue["body"]  # the body is the latest report
    assert state(fake_gh)["labels"][params.drift.issue.label]["color"] == github.LABEL_COLOR


def test_a_closed_issue_is_left_closed_and_the_next_drift_opens_a_new_one_github_api_mocked(
    fake_gh: Path, params: Params
) -> None:
    first = github.publish_result(params, document("drift"), None, "")
    github.gh("issue", "close", str(first.number))
    second = github.publish_result(params, document("drift"), None, "")
    assert second.action == "created"
    assert second.number != first.number
    assert [i["state"] for i in state(fake_gh)["issues"]] == ["closed", "open"]


@pytest.mark.parametrize("choice", ["yes", ""])
def test_drift_in_the_demo_sample_posts_nothing_and_says_what_to_configure_github_api_mocked(
    fake_gh: Path, params: Params, choice: str
) -> None:
    demo = document("drift") | {"current": {"source": "sample", "description": "sample generator", "rows": 20_000}}
    published = github.publish_result(params, demo, None, choice)
    assert published.action == "demo"
    assert "set `drift.file` in params.yaml" in published.describe()
    assert state(fake_gh)["issues"] == []
    assert not [call for call in state(fake_gh)["calls"] if call["argv"][:2] != ["--version"]]  # no call at all
    assert outputs(fake_gh) == {"drifted": "true", "retrain": "false", "demo": "true"}  # asked to retrain: still no
    summary = (fake_gh.parent / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("## Drift check on demo data: nothing posted")
    assert "remove `sample` from `drift.sources`" in summary


def test_could_not_check_is_an_error_not_a_post_github_api_mocked(fake_gh: Path, params: Params) -> None:
    with pytest.raises(github.GitHubError, match="could not run"):
        github.publish_result(params, document("could not check", "could not check: 50 rows"), None, "")
    assert state(fake_gh)["issues"] == []


@pytest.mark.parametrize(("choice", "expected"), [("yes", "true"), ("no", "false"), ("params", "false"), ("", "false")])
def test_the_retrain_output_follows_the_input_then_params_github_api_mocked(
    fake_gh: Path, params: Params, choice: str, expected: str
) -> None:
    github.publish_result(params, document("drift"), None, choice)
    assert outputs(fake_gh)["retrain"] == expected


def test_a_refused_retraining_pull_request_says_which_setting_to_change_github_api_mocked(
    fake_gh: Path, params: Params, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = fake_github.git_server(REPOSITORY, fake_gh)
    server.parent.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "--bare", str(server)], check=True)
    repo = tmp_path / "work"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "commit", "-q", "--allow-empty", "-m", "retrain")
    _git(repo, "push", "-q", str(server), "HEAD:refs/heads/drift-retrain")
    fake_github.set_setting(fake_gh, "actions_can_create_pull_requests", False)
    monkeypatch.setenv("GH_TOKEN", fake_github.ACTIONS_TOKEN)  # the workflow's GITHUB_TOKEN
    with pytest.raises(github.GitHubError) as refused:
        github.open_retrain_pull_request(params, "drift-retrain", "main", "Retrain", "body")
    message = str(refused.value)
    assert '"Allow GitHub Actions to create and approve pull requests" is off' in message
    assert "RETRAIN_TOKEN" in message
    assert "https://github.com/acme/mlops-template/compare/main...drift-retrain" in message
    assert state(fake_gh)["pulls"] == {}
    monkeypatch.setenv("GH_TOKEN", "github_pat_fake")  # a RETRAIN_TOKEN: the setting does not apply to it
    assert github.open_retrain_pull_request(params, "drift-retrain", "main", "Retrain", "body").startswith("opened")


def _git(repo: Path, *args: str, when: float | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t"}
    env["GIT_COMMITTER_EMAIL"] = "t@t"
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{int(when)} +0000"
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True).stdout


def test_keepalive_calls_the_api_only_when_main_is_quiet_github_api_mocked(fake_gh: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "commit", "-q", "--allow-empty", "-m", "old", when=time.time() - 50 * 86_400)
    assert "nothing to do" in keepalive.keep_alive(60, "drift.yml", repo)
    assert "workflows" not in state(fake_gh)
    assert "re-enabled drift.yml" in keepalive.keep_alive(45, "drift.yml", repo)
    assert state(fake_gh)["workflows"]["drift.yml"]["enable_calls"] == 1
    _git(repo, "commit", "-q", "--allow-empty", "-m", "new")
    assert "nothing to do" in keepalive.keep_alive(45, "drift.yml", repo)
    assert state(fake_gh)["workflows"]["drift.yml"]["enable_calls"] == 1


def test_the_retraining_pull_request_is_opened_once_github_api_mocked(
    fake_gh: Path, params: Params, tmp_path: Path
) -> None:
    server = fake_github.git_server(REPOSITORY, fake_gh)
    server.parent.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "--bare", str(server)], check=True)
    repo = tmp_path / "work"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "commit", "-q", "--allow-empty", "-m", "retrain")
    with pytest.raises(github.GitHubError, match="has not been pushed"):
        github.open_retrain_pull_request(params, "drift-retrain", "main", "Retrain", "body")
    _git(repo, "push", "-q", str(server), "HEAD:refs/heads/drift-retrain")
    opened = github.open_retrain_pull_request(params, "drift-retrain", "main", "Retrain", "body")
    again = github.open_retrain_pull_request(params, "drift-retrain", "main", "Retrain", "body")
    assert opened.startswith("opened pull request https://github.com/acme/mlops-template/pull/")
    assert again.startswith("updated pull request #")
    assert len(state(fake_gh)["pulls"]) == 1


def test_the_new_batch_is_listed_in_extra_inputs_keeping_the_rest_of_params_yaml(tmp_path: Path) -> None:
    params_file = tmp_path / "params.yaml"
    # The repository's params.yaml, with no extra input yet (a retraining branch already lists one).
    text = re.sub(r"^  extra_inputs: \[.*\]", "  extra_inputs: []", (REPO / "params.yaml").read_text(), flags=re.M)
    params_file.write_text(text, encoding="utf-8")
    retrain.list_extra_input(params_file, "data/labelled/2026-01-01.csv")
    retrain.list_extra_input(params_file, "data/labelled/2026-02-01.csv")
    retrain.list_extra_input(params_file, "data/labelled/2026-02-01.csv")  # listed once
    edited = params_file.read_text(encoding="utf-8")
    listed = ("data/labelled/2026-01-01.csv", "data/labelled/2026-02-01.csv")
    assert load_params(params_file).data.extra_inputs == listed
    assert [a for a in text.splitlines() if "extra_inputs:" not in a] == [
        b for b in edited.splitlines() if "extra_inputs:" not in b
    ]  # comments and every other line as they were
    params_file.write_text(text.replace("extra_inputs: []", "extra_inputs:\n    - a.csv"), encoding="utf-8")
    with pytest.raises(retrain.RetrainError, match="flow list"):
        retrain.list_extra_input(params_file, "b.csv")


def test_a_new_batch_file_never_overwrites_one_of_the_same_day(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    day = datetime(2026, 3, 1, tzinfo=UTC)
    first = retrain.new_batch_file(tmp_path, day)
    retrain.write_batch(first, pd.DataFrame({"customer_id": ["C1"], "age": [41.0]}))
    (tmp_path / "2026-03-01-2.csv.dvc").write_text("outs: []\n", encoding="utf-8")  # DVC-tracked, not pulled
    assert first.name == "2026-03-01.csv"
    assert first.read_text(encoding="utf-8") == "customer_id,age\nC1,41\n"
    assert retrain.new_batch_file(tmp_path, day).name == "2026-03-01-3.csv"


def test_retraining_needs_labelled_rows_in_the_raw_format() -> None:
    unlabelled = CurrentBatch(
        raw=pd.DataFrame({"customer_id": ["C1"], "churned": [None]}), kind="file", description="f"
    )
    with pytest.raises(retrain.RetrainError, match="no labels"):
        retrain.labelled_rows(unlabelled, ["customer_id", "churned"])
    logged = CurrentBatch(raw=pd.DataFrame({"age": [30.0]}), kind="inference_log", description="the log")
    with pytest.raises(retrain.RetrainError, match=r"lacks column\(s\) customer_id, churned"):
        retrain.labelled_rows(logged, ["customer_id", "age", "churned"])


def test_outputs_are_written_to_github_output_and_nowhere_outside_github_actions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    github.write_outputs({"drifted": "true"})
    assert list(tmp_path.iterdir()) == []  # outside GitHub Actions: no file anywhere here
    target = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_OUTPUT", str(target))
    github.write_outputs({"drifted": "true", "retrain": "false"})
    github.write_outputs({"issue": "7"})  # later steps append
    assert target.read_text(encoding="utf-8") == "drifted=true\nretrain=false\nissue=7\n"
    assert list(tmp_path.iterdir()) == [target]


def test_workflow_file_comes_from_the_workflow_ref(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_WORKFLOW_REF", "acme/mlops-template/.github/workflows/drift.yml@refs/heads/main")
    assert keepalive.workflow_file() == "drift.yml"
    assert json.dumps(github.Published("created", 7, "u").describe()) == '"created drift issue #7 (u)"'
