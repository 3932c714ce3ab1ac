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

With `cml` on PATH: `cml comment update --watermark-title=... --publish` (CML uploads the
images and edits the comment carrying its watermark, or creates it). Without it: the
same markdown through `gh api` (the REST API): find the comment with the same watermark,
PATCH it or POST a new one. GitHub has no API to attach images to a comment, so in this
fallback each image becomes a link to the workflow run, whose `pr-report` artifact has them.

    REPORT_DIR=reports/pr RUN_PR_NUMBER=42 RUN_HEAD_SHA=... GITHUB_REPOSITORY=o/r GITHUB_TOKEN=... \\
        python -m mlops_template.report.post          (make post-report)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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


def _run(args: list[str], env: Mapping[str, str], stdin: str | None = None) -> str:
    result = subprocess.run(args, input=stdin, capture_output=True, text=True, env=dict(env), check=False)  # noqa: S603
    if result.returncode != 0:
        raise PostError(f"`{' '.join(args[:3])} …` failed: {(result.stderr or result.stdout).strip()}")
    return result.stdout


def _json_documents(text: str) -> list[Any]:
    """`gh api --paginate` prints one JSON document per page."""
    decoder, documents, index = json.JSONDecoder(), [], 0
    while index < len(text):
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            break
        document, index = decoder.raw_decode(text, index)
        documents.append(document)
    return documents


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
    """The head commit of pull request `number`, from the REST API (or `gh pr view` if that fails)."""
    try:
        pull = json.loads(_run(["gh", "api", f"repos/{repository}/pulls/{number}"], env))
        return (pull.get("head") or {}).get("sha")
    except (PostError, json.JSONDecodeError, AttributeError):
        out = _run(["gh", "pr", "view", str(number), "--repo", repository, "--json", "headRefOid"], env)
        return json.loads(out).get("headRefOid")


def post_with_cml(body: str, images: list[Path], number: int, repository: str, env: Mapping[str, str]) -> str:
    with tempfile.TemporaryDirectory(prefix="pr-report-") as clean:
        folder = Path(clean)
        for image in images:
            shutil.copyfile(image, folder / image.name)
        (folder / "report.md").write_text(body, encoding="utf-8")
        return _run(
            [
                "cml",
                "comment",
                "update",
                f"--target=pr/{number}",
                f"--watermark-title={WATERMARK_TITLE}",
                f"--repo=https://github.com/{repository}",
                "--publish",
                str(folder / "report.md"),
            ],
            env,
        ).strip()


def post_with_gh(body: str, number: int, repository: str, env: Mapping[str, str]) -> str:
    body = body.rstrip("\n") + "\n\n" + watermark(env.get("GITHUB_SHA", ""))
    pages = _json_documents(_run(["gh", "api", "--paginate", f"repos/{repository}/issues/{number}/comments"], env))
    comments = [c for page in pages for c in (page if isinstance(page, list) else [page])]
    author = env.get("REPORT_COMMENT_AUTHOR", BOT_LOGIN)
    ours = [c for c in comments if has_watermark(c.get("body", "")) and (c.get("user") or {}).get("login") == author]
    payload = json.dumps({"body": body})
    if ours:
        comment_id = ours[-1]["id"]
        _run(
            ["gh", "api", "-X", "PATCH", f"repos/{repository}/issues/comments/{comment_id}", "--input", "-"],
            env,
            payload,
        )
        return f"updated comment {comment_id} on #{number}"
    out = json.loads(
        _run(["gh", "api", "-X", "POST", f"repos/{repository}/issues/{number}/comments", "--input", "-"], env, payload)
    )
    return f"created comment {out.get('id')} on #{number}"


def post(env: Mapping[str, str]) -> str:
    """Post or update the one report comment; returns what was done."""
    report_dir = Path(env.get("REPORT_DIR", "reports/pr"))
    repository = env.get("GITHUB_REPOSITORY", "")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repository):
        raise PostError("GITHUB_REPOSITORY (owner/name) is not set")
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
    if shutil.which("cml", path=env.get("PATH")):
        body, images = sanitize(markdown, report_dir)
        return post_with_cml(body, images, number, repository, env) or f"cml updated the comment on #{number}"
    if shutil.which("gh", path=env.get("PATH")):
        body, _ = sanitize(
            markdown, report_dir, image_link=env.get("RUN_URL") or f"https://github.com/{repository}/actions"
        )
        return post_with_gh(body, number, repository, env)
    raise PostError("neither cml nor gh is on PATH: install CML (iterative/setup-cml) or the GitHub CLI")


def main() -> int:
    try:
        print(post(os.environ))
    except PostError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
