"""The `gh` and `cml` stand-ins (GitHub's API mocked) keep one sticky comment per watermark."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.workflows.act import FAKE_TOKEN, STANDINS

REPO = "acme/mlops-template"


@pytest.fixture
def github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    state = tmp_path / "github"
    monkeypatch.setenv("FAKE_GITHUB_DIR", str(state))
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("GITHUB_SHA", "a" * 40)
    monkeypatch.chdir(tmp_path)
    state.mkdir()
    (state / "state.json").write_text(
        json.dumps(
            {
                "next_id": 1000,
                "next_number": 100,
                "issues": [],
                "comments": [],
                "assets": [],
                "calls": [],
                "pulls": {"42": {"number": 42, "head": {"sha": "b" * 40, "repo": REPO}, "base": "main"}},
            }
        ),
        encoding="utf-8",
    )
    return state


def tool(name: str, *args: str) -> str:
    result = subprocess.run(
        [str(STANDINS / name / name), *args], capture_output=True, text=True, check=False, env=os.environ
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def comments(state: Path) -> list[dict[str, object]]:
    return json.loads((state / "state.json").read_text(encoding="utf-8"))["comments"]


def test_cml_comment_update_edits_the_one_watermarked_comment_github_api_mocked(github: Path, tmp_path: Path) -> None:
    (tmp_path / "roc.png").write_bytes(b"\x89PNG fake")
    report = tmp_path / "report.md"
    report.write_text("# Report\n![ROC](roc.png)\n", encoding="utf-8")
    for _ in range(2):
        tool("cml", "comment", "update", "--target=pr/42", "--watermark-title=PR report", str(report))
    posted = comments(github)
    assert len(posted) == 1
    assert posted[0]["edits"] == 1
    assert "https://asset.cml.test/" in str(posted[0]["body"])
    assert 'CML watermark PR report"' in str(posted[0]["body"])


def test_cml_comment_create_always_adds_a_comment_github_api_mocked(github: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    report.write_text("hello\n", encoding="utf-8")
    for _ in range(2):
        tool("cml", "comment", "create", "--target=pr/42", str(report))
    assert len(comments(github)) == 2


def test_gh_api_comments_and_issues_github_api_mocked(github: Path) -> None:
    first = tool("gh", "api", f"repos/{REPO}/issues/42/comments", "-f", "body=one", "--jq", ".id").strip()
    tool("gh", "api", "-X", "PATCH", f"repos/{REPO}/issues/comments/{first}", "-f", "body=two", "--silent")
    assert tool("gh", "api", f"repos/{REPO}/issues/42/comments", "--jq", ".[].body").split() == ["two"]
    assert tool("gh", "pr", "view", "42", "--json", "headRefOid", "-q", ".headRefOid").strip() == "b" * 40
    url = tool("gh", "issue", "create", "--title", "Drift detected", "--body", "psi 0.3", "--label", "drift")
    assert url.strip().endswith("/issues/101")
    listed = json.loads(tool("gh", "issue", "list", "--label", "drift", "--json", "number,title"))
    assert listed == [{"number": 101, "title": "Drift detected"}]


def test_the_stand_ins_refuse_to_work_without_a_token_github_api_mocked(
    github: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    result = subprocess.run(
        [str(STANDINS / "gh" / "gh"), "api", f"repos/{REPO}/issues/42/comments"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "no token" in result.stdout + result.stderr
