"""GitHub, through the GitHub CLI: the one client the PR report and the drift workflow share.

`gh` does the HTTP, the authentication (GH_TOKEN or GITHUB_TOKEN), the retries and the
pagination (`gh api --paginate --slurp`: every page, as one JSON array of pages); this
module only builds the calls and turns a failure into `GitHubError` with GitHub's answer.
Also here: the two files a GitHub Actions step writes for the next ones (outputs, summary).

Standard library only: `make post-report` runs the posting code with a bare python3, so
nothing of a pull request's environment is installed where the write token is. Under act,
`gh` on PATH is the recording stand-in of tests/workflows/standins.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_template.external import CommandError, run

# What GitHub answers (HTTP 403) when a workflow's GITHUB_TOKEN opens a pull request while the
# repository setting "Allow GitHub Actions to create and approve pull requests" is off.
ACTIONS_MAY_NOT_CREATE_PULLS = "GitHub Actions is not permitted to create or approve pull requests"
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


class GitHubError(RuntimeError):
    """A call to GitHub failed; the message names the call and GitHub's answer."""


def gh(*args: str, env: Mapping[str, str] | None = None, stdin: str | None = None) -> str:
    try:
        return run(["gh", *args], env=env, stdin=stdin)
    except CommandError as exc:
        if "not installed" in str(exc):
            raise GitHubError("the GitHub CLI `gh` is not installed (https://cli.github.com)") from exc
        raise GitHubError(f"`gh {' '.join(args[:2])}` failed: {exc.output or exc}") from exc


def api(endpoint: str, *, method: str = "GET", payload: Any = None, env: Mapping[str, str] | None = None) -> Any:
    """One REST call; the JSON answer (None when GitHub answers with no body)."""
    args = ["api", "--method", method, endpoint]
    if payload is not None:
        args += ["--input", "-"]
    out = gh(*args, env=env, stdin=None if payload is None else json.dumps(payload))
    return json.loads(out) if out.strip() else None


def api_list(endpoint: str, *, env: Mapping[str, str] | None = None) -> list[Any]:
    """Every item of a paginated list endpoint (all pages)."""
    pages = json.loads(gh("api", "--paginate", "--slurp", endpoint, env=env) or "[]")
    return [item for page in pages for item in (page if isinstance(page, list) else [page])]


def with_body(body: str, *args: str, env: Mapping[str, str] | None = None) -> str:
    """Run a `gh issue/pr` command with `--body-file`: no length or quoting limits on the body."""
    with tempfile.NamedTemporaryFile("w", suffix=".md", encoding="utf-8", delete=False) as handle:
        handle.write(body)
        path = handle.name
    try:
        return gh(*args, "--body-file", path, env=env)
    finally:
        Path(path).unlink(missing_ok=True)


def repository(env: Mapping[str, str] | None = None) -> str:
    """owner/name of the repository the workflow runs in (GITHUB_REPOSITORY)."""
    value = (os.environ if env is None else env).get("GITHUB_REPOSITORY", "")
    if not _REPOSITORY.fullmatch(value):
        raise GitHubError("GITHUB_REPOSITORY (owner/name) is not set")
    return value


def write_outputs(values: Mapping[str, str]) -> None:
    """Step outputs for later jobs (`$GITHUB_OUTPUT`); nothing outside GitHub Actions."""
    target = os.environ.get("GITHUB_OUTPUT")
    if target:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.writelines(f"{key}={value}\n" for key, value in values.items())


def write_summary(markdown: str) -> None:
    """Markdown for the run's summary page (`$GITHUB_STEP_SUMMARY`); nothing outside GitHub Actions."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(markdown.rstrip("\n") + "\n")
