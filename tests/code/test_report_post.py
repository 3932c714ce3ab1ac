"""Posting the report: one sticky comment, with cml or the gh fallback, and nothing untrusted published.

Plots go to CML's public asset host only where they may be public (a public repository, or
REPORT_PUBLIC_PLOTS=true); a private repository, or CML failing, gets the gh comment.

GitHub's API is mocked by the `gh`/`cml` stand-ins of tests/workflows (a JSON file); the
posting code itself runs for real, as `make post-report` runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlops_template.report.post import PostError, has_watermark, plots_may_be_public, pull_request_number, sanitize
from tests.workflows.act import FAKE_TOKEN, STANDINS
from tests.workflows.standins import fake_github

REPO = "acme/mlops-template"
HEAD = "1" * 40
PUBLIC = {"REPOSITORY_PRIVATE": "false"}  # what pr-report.yml passes for a public repository
PNG = b"\x89PNG\r\n\x1a\n fake"


@pytest.fixture
def report_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "pr-report"
    folder.mkdir()
    (folder / "roc.png").write_bytes(PNG)
    (folder / "report.md").write_text(
        "## 🔬 Model report\n\n| metric | main | this PR |\n|---|---|---|\n| roc_auc | 0.8 | 0.9 |\n\n"
        "![ROC curve](roc.png)\n![secret](../../../etc/passwd) [key](/root/.ssh/id_rsa) ![x](evil.sh)\n"
        "[docs](https://example.org/x)\n"
        '![](https://cml.dev/watermark.png#1 "CML watermark mlops-template PR report")\n',
        encoding="utf-8",
    )
    (folder / "summary.json").write_text(json.dumps({"passed": True, "pull_request": {"number": 42}}))
    return folder


@pytest.fixture
def github(tmp_path: Path) -> Path:
    state = tmp_path / "github"
    fake_github.add_pull(state, 42, HEAD)
    fake_github.add_pull(state, 7, "2" * 40)
    return state


def post(report_dir: Path, github: Path, *, cml: bool, **env: str) -> subprocess.CompletedProcess[str]:
    path = [str(STANDINS / "gh")] + ([str(STANDINS / "cml")] if cml else []) + [str(Path(sys.executable).parent)]
    base = {k: v for k, v in os.environ.items() if k not in {"PATH", "GITHUB_TOKEN", "GH_TOKEN"}}
    full = (
        base
        | {
            "PATH": os.pathsep.join([*path, "/usr/bin", "/bin"]),
            "FAKE_GITHUB_DIR": str(github),
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_TOKEN": FAKE_TOKEN,
            "GITHUB_SHA": "f" * 40,
            "REPORT_DIR": str(report_dir),
            "RUN_HEAD_SHA": HEAD,
            "RUN_URL": "https://github.com/acme/mlops-template/actions/runs/9",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"),
        }
        | env
    )
    return subprocess.run(
        [sys.executable, "-m", "mlops_template.report.post"], env=full, capture_output=True, text=True, check=False
    )


def state(github: Path) -> dict[str, Any]:
    return json.loads((github / "state.json").read_text())


def test_sanitize_keeps_the_reports_pngs_and_drops_every_other_local_reference(report_dir: Path) -> None:
    body, images = sanitize((report_dir / "report.md").read_text(), report_dir)
    assert images == [report_dir / "roc.png"]
    assert "![ROC curve](roc.png)" in body
    assert "passwd" not in body
    assert "id_rsa" not in body
    assert "evil.sh" not in body
    assert "[docs](https://example.org/x)" in body
    assert "CML watermark" not in body  # a report cannot carry (and spoof) the watermark


def test_sanitize_for_gh_links_images_to_the_run(report_dir: Path) -> None:
    body, images = sanitize((report_dir / "report.md").read_text(), report_dir, image_link="https://run/9")
    assert images == []
    assert "[🖼 ROC curve (in the run's `pr-report` artifact)](https://run/9)" in body


def test_cml_updates_one_sticky_comment_on_every_push_github_api_mocked(report_dir: Path, github: Path) -> None:
    for _ in range(3):
        result = post(report_dir, github, cml=True, RUN_PR_NUMBER="42", **PUBLIC)
        assert result.returncode == 0, result.stderr
    comments = state(github)["comments"]
    assert len(comments) == 1
    assert comments[0]["issue"] == 42
    assert comments[0]["edits"] == 2
    assert has_watermark(comments[0]["body"])
    assert "![ROC curve](https://asset.cml.test/" in comments[0]["body"]
    assert [a["source"].rsplit("/", 1)[-1] for a in state(github)["assets"]] == ["roc.png"] * 3
    assert not state(github).get("missing_assets")


def test_the_gh_fallback_keeps_one_comment_and_finds_cmls_github_api_mocked(report_dir: Path, github: Path) -> None:
    assert post(report_dir, github, cml=True, RUN_PR_NUMBER="42", **PUBLIC).returncode == 0
    for _ in range(2):
        result = post(report_dir, github, cml=False, RUN_PR_NUMBER="42", **PUBLIC)
        assert result.returncode == 0, result.stderr
        assert "updated comment" in result.stdout
    comments = state(github)["comments"]
    assert len(comments) == 1
    assert comments[0]["edits"] == 2
    assert "in the run's `pr-report` artifact" in comments[0]["body"]


def test_a_fork_pr_number_from_the_report_is_used_only_if_its_head_is_the_tested_commit_github_api_mocked(
    report_dir: Path, github: Path
) -> None:
    result = post(report_dir, github, cml=True, RUN_PR_NUMBER="", **PUBLIC)  # forks: GitHub gives no PR number
    assert result.returncode == 0, result.stderr
    assert [c["issue"] for c in state(github)["comments"]] == [42]
    (report_dir / "summary.json").write_text(json.dumps({"pull_request": {"number": 7}}))  # a lie: #7 is another PR
    refused = post(report_dir, github, cml=True, RUN_PR_NUMBER="", **PUBLIC)
    assert refused.returncode == 1
    assert "not posting" in refused.stderr
    assert [c["issue"] for c in state(github)["comments"]] == [42]


@pytest.mark.parametrize("claim", [None, "42", -1, True, 0])
def test_malformed_pr_claims_are_refused(claim: object) -> None:
    with pytest.raises(PostError):
        pull_request_number({"RUN_HEAD_SHA": HEAD}, {"pull_request": {"number": claim}}, REPO)


def _public_links(body: str) -> list[str]:
    return [link for link in body.split("(") if link.startswith("https://asset.")]


@pytest.mark.parametrize("private", ["true", ""])  # the event says private, or says nothing: private either way
def test_a_private_repository_never_publishes_plots_github_api_mocked(
    report_dir: Path, github: Path, private: str
) -> None:
    result = post(report_dir, github, cml=True, RUN_PR_NUMBER="42", REPOSITORY_PRIVATE=private)
    assert result.returncode == 0, result.stderr
    assert "plots kept private" in result.stdout
    (comment,) = state(github)["comments"]
    assert comment["via"] == "gh"
    assert _public_links(comment["body"]) == []
    assert "[🖼 ROC curve (in the run's `pr-report` artifact)](https://github.com/acme/" in comment["body"]
    assert state(github)["assets"] == []
    assert [c["tool"] for c in state(github)["calls"]] == ["gh"] * len(state(github)["calls"])  # cml never ran


def test_public_plots_are_a_choice_either_way() -> None:
    assert plots_may_be_public({"REPOSITORY_PRIVATE": "false"})
    assert not plots_may_be_public({"REPOSITORY_PRIVATE": "true"})
    assert not plots_may_be_public({})
    assert plots_may_be_public({"REPOSITORY_PRIVATE": "true", "REPORT_PUBLIC_PLOTS": "true"})
    assert not plots_may_be_public({"REPOSITORY_PRIVATE": "false", "REPORT_PUBLIC_PLOTS": "false"})


def test_when_cml_fails_gh_posts_the_one_sticky_comment_github_api_mocked(report_dir: Path, github: Path) -> None:
    assert post(report_dir, github, cml=True, RUN_PR_NUMBER="42", **PUBLIC).returncode == 0  # yesterday: cml worked
    result = post(report_dir, github, cml=True, RUN_PR_NUMBER="42", FAKE_CML_FAILS="1", **PUBLIC)
    assert result.returncode == 0, result.stderr
    assert "::warning title=CML failed::cml failed, posted through the GitHub API instead" in result.stdout
    assert "503 Service Unavailable" in result.stdout
    (comment,) = state(github)["comments"]
    assert comment["edits"] == 1
    assert "in the run's `pr-report` artifact" in comment["body"]
    assert _public_links(comment["body"]) == []
