"""Keep the scheduled drift workflow alive without commits.

GitHub disables a scheduled workflow after 60 days without activity in the repository.
Re-enabling it through the API (`PUT .../actions/workflows/{id}/enable`) resets that clock
with no commit; it is done once the default branch has been quiet for
`drift.keepalive_after_days`, so an active repository makes no calls at all.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from mlops_template.external import CommandError, run
from mlops_template.github_api import GitHubError, api


def days_since_last_commit(repo: Path = Path()) -> float:
    try:
        stamp = run(["git", "log", "-1", "--format=%ct"], cwd=repo).strip()
    except CommandError as exc:
        raise GitHubError(f"cannot read the last commit's date: {exc}") from exc
    if not stamp:
        raise GitHubError("cannot read the last commit's date: no commits")
    return (time.time() - int(stamp)) / 86_400


def workflow_file() -> str:
    """This workflow's file name, from GITHUB_WORKFLOW_REF (owner/repo/.github/workflows/x.yml@ref)."""
    ref = os.environ.get("GITHUB_WORKFLOW_REF", "")
    name = ref.split("@", 1)[0].rsplit("/", 1)[-1]
    return name or "drift.yml"


def keep_alive(after_days: float, workflow: str | None = None, repo: Path = Path()) -> str:
    """Re-enable the scheduled workflow through the API once the repository has been quiet."""
    quiet = days_since_last_commit(repo)
    if quiet < after_days:
        return f"last commit {quiet:.0f} days ago (< {after_days:g}): nothing to do"
    name = workflow or workflow_file()
    # Outside Actions, gh fills {owner}/{repo} from the checkout's GitHub remote.
    where = os.environ.get("GITHUB_REPOSITORY") or "{owner}/{repo}"
    api(f"repos/{where}/actions/workflows/{name}/enable", method="PUT")
    return f"last commit {quiet:.0f} days ago: re-enabled {name} through the API (no commit)"
