"""Post the built report on its pull request as ONE comment, updated on every push.

Runs in the pr-report workflow, which has a write token but must not trust the report:
the report was made by the pull request's code, which for a fork is anyone's. So this
module uses the standard library only (nothing of the PR is installed or imported) and:

- takes the PR number from the workflow_run event when GitHub gives it (same-repo PRs);
  for forks GitHub gives none, so the number written in the report is accepted only if
  that pull request's head is the very commit the PR run tested;
- passes on only the markdown and the PNG files directly inside the report folder, copied
  to a clean folder: a link such as `../../etc/passwd` is dropped, never uploaded;
- strips any watermark the report carries, so a report cannot hijack another comment.

Two ways to post, one comment (both mark it with CML's watermark and find it by that):

- with `cml` (`cml comment update --publish`): the plots are shown in the comment, which
  means CML uploads them to its asset host, a PUBLIC URL. That is done only when plots may
  be public: the repository is public, or the repository variable REPORT_PUBLIC_PLOTS is
  `true` (an explicit `false` keeps them private in a public repository too);
- with `gh` (the REST API): find the comment with the watermark, PATCH it or POST a new
  one. GitHub has no API to attach images to a comment, so each plot becomes a link to
  the workflow run, whose `pr-report` artifact holds it.

A private repository therefore gets the `gh` comment (no image leaves GitHub), and when
`cml` fails (its asset host down, the setup action failed) the report still goes out
through `gh`: a run never ends with no comment because of CML.

    REPORT_DIR=reports/pr RUN_PR_NUMBER=42 RUN_HEAD_SHA=... GITHUB_REPOSITORY=o/r GITHUB_TOKEN=... \\
        python -m mlops_template.report.post          (make post-report)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_template import github_api
from mlops_template.external import CommandError, run
from mlops_template.github_api import GitHubError, api, api_list

WATERMARK_TITLE = "mlops-template PR report"
WATERMARK_URL = "https://cml.dev/watermark.png"
BOT_LOGIN = "github-actions[bot]"
MAX_BODY = 60_000  # GitHub rejects comments over 65,536 characters
IMAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}\.png$")
_LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]*)(\s+\"[^\"]*\")?\)")
_ANY_WATERMARK = re.compile(r"!\[[^\]]*\]\([^)]*\"CML watermark[^\"]*\"\)")


class PostError(RuntimeError):
    """The report cannot be posted; the message says why."""


def watermark(sha: str) -> str:
    """The marker CML puts under its comments; both posting paths use it, so they find each other's comment."""
    return f'![]({WATERMARK_URL}#{sha or "0"} "CML watermark {WATERMARK_TITLE}")'


def has_watermark(body: str) -> bool:
    title = re.escape(f"CML watermark {WATERMARK_TITLE}")
    return re.search(rf'!\[\]\({re.escape(WATERMARK_URL)}#[0-9a-fA-F]+ "{title}"\)', body) is not None


def sanitize(markdown: str, report_dir: Path, image_link: str | None = None) -> tuple[str, list[Path]]:
    """Keep remote links and the report's own PNGs; drop every other local reference.

    Returns the markdown and the image files it may show. With `image_link`, images are
    replaced by links to that URL (the gh fallback, which cannot upload them).
    """
    images: list[Path] = []
    markdown = _ANY_WATERMARK.sub("", markdown)

    def keep(match: re.Match[str]) -> str:
        bang, text, target, _title = match.groups()
        if re.match(r"^https?://", target) or target.startswith("#"):
            return match.group(0)
        path = report_dir / target
        if bang and IMAGE_NAME.match(target) and path.is_file() and not path.is_symlink():
            if image_link:
                return f"[🖼 {text or target} (in the run's `pr-report` artifact)]({image_link})"
            images.append(path)
            return f"![{text}]({target})"
        return text  # a local file we will not publish: keep only its words

    markdown = _LINK.sub(keep, markdown)
    if len(markdown) > MAX_BODY:
        markdown = markdown[:MAX_BODY] + "\n\n… (truncated: the full report is in the `pr-report` artifact)\n"
    return markdown, images


def plots_may_be_public(env: Mapping[str, str]) -> bool:
    """REPORT_PUBLIC_PLOTS=true|false decides; unset, only a repository known to be public may."""
    choice = env.get("REPORT_PUBLIC_PLOTS", "").strip().lower()
    if choice in {"true", "false"}:
        return choice == "true"
    return env.get("REPOSITORY_PRIVATE", "").strip().lower() == "false"


def pull_request_number(env: Mapping[str, str], summary: Mapping[str, Any], repository: str) -> int:
    """The PR to comment on: from the event if GitHub gave it, else the report's claim, verified."""
    from_event = env.get("RUN_PR_NUMBER", "").strip()
    if from_event:
        if not from_event.isdigit():
            raise PostError(f"RUN_PR_NUMBER is not a number: {from_event!r}")
        return int(from_event)
    claimed = (summary.get("pull_request") or {}).get("number")
    if not isinstance(claimed, int) or isinstance(claimed, bool) or claimed <= 0:
        raise PostError("the event names no pull request and the report claims none (was it a pull_request run?)")
    tested = env.get("RUN_HEAD_SHA", "").strip()
    if not re.fullmatch(r"[0-9a-f]{40}", tested):
        raise PostError("RUN_HEAD_SHA (the commit the PR run tested) is missing or malformed")
    head = _pull_head(claimed, repository, env)
    if head != tested:
        raise PostError(
            f"the report claims pull request #{claimed}, whose head is {head}, but the run tested {tested}: not posting"
        )
    return claimed


def _pull_head(number: int, repository: str, env: Mapping[str, str]) -> str | None:
    """The head commit of pull request `number`, from the REST API."""
    try:
        pull = api(f"repos/{repository}/pulls/{number}", env=env)
    except GitHubError as exc:
        raise PostError(f"cannot read pull request #{number}: {exc}") from exc
    head = (pull or {}).get("head") or {}
    return head.get("sha") if isinstance(head, dict) else None


def post_with_cml(body: str, images: list[Path], number: int, repository: str, env: Mapping[str, str]) -> str:
    with tempfile.TemporaryDirectory(prefix="pr-report-") as clean:
        folder = Path(clean)
        for image in images:
            shutil.copyfile(image, folder / image.name)
        (folder / "report.md").write_text(body, encoding="utf-8")
        args = [
            "cml",
            "comment",
            "update",
            f"--target=pr/{number}",
            f"--watermark-title={WATERMARK_TITLE}",
            f"--repo=https://github.com/{repository}",
            "--publish",
            str(folder / "report.md"),
        ]
        try:
            return run(args, env=env).strip() or f"cml updated the comment on #{number}"
        except CommandError as exc:
            raise PostError(str(exc)) from exc


def post_with_gh(body: str, number: int, repository: str, env: Mapping[str, str]) -> str:
    body = body.rstrip("\n") + "\n\n" + watermark(env.get("GITHUB_SHA", ""))
    try:
        comments = api_list(f"repos/{repository}/issues/{number}/comments", env=env)
        author = env.get("REPORT_COMMENT_AUTHOR", BOT_LOGIN)
        ours = [
            c for c in comments if has_watermark(c.get("body", "")) and (c.get("user") or {}).get("login") == author
        ]
        if ours:
            comment_id = ours[-1]["id"]
            api(f"repos/{repository}/issues/comments/{comment_id}", method="PATCH", payload={"body": body}, env=env)
            return f"updated comment {comment_id} on #{number}"
        created = api(f"repos/{repository}/issues/{number}/comments", method="POST", payload={"body": body}, env=env)
    except GitHubError as exc:
        raise PostError(str(exc)) from exc
    return f"created comment {(created or {}).get('id')} on #{number}"


def post(env: Mapping[str, str]) -> str:
    """Post or update the one report comment; returns what was done (and why that way)."""
    report_dir = Path(env.get("REPORT_DIR", "reports/pr"))
    try:
        repository = github_api.repository(env)
    except GitHubError as exc:
        raise PostError(str(exc)) from exc
    try:
        markdown = (report_dir / "report.md").read_text(encoding="utf-8")
        summary = json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError) as exc:
        raise PostError(
            f"{report_dir}: no usable report ({exc}); did the PR run upload the pr-report artifact?"
        ) from exc
    if not isinstance(summary, dict):
        raise PostError(f"{report_dir / 'summary.json'}: not a JSON object")
    number = pull_request_number(env, summary, repository)
    why = "plots kept private: set the repository variable REPORT_PUBLIC_PLOTS=true to show them with cml"
    if plots_may_be_public(env):
        if shutil.which("cml", path=env.get("PATH")):
            body, images = sanitize(markdown, report_dir)
            try:
                return post_with_cml(body, images, number, repository, env)
            except PostError as exc:
                why = f"cml failed, posted through the GitHub API instead ({exc})"
                print(f"::warning title=CML failed::{why}")  # an annotation on the run
        else:
            why = "no cml on PATH, posted through the GitHub API"
    if not shutil.which("gh", path=env.get("PATH")):
        raise PostError("the GitHub CLI `gh` is not on PATH (it is on GitHub's runners): cannot post the report")
    body, _ = sanitize(
        markdown, report_dir, image_link=env.get("RUN_URL") or f"https://github.com/{repository}/actions"
    )
    return f"{post_with_gh(body, number, repository, env)} ({why})"


def main() -> int:
    try:
        print(post(os.environ))
    except PostError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
