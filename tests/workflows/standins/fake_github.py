"""A stand-in for GitHub's API, and for the `gh` and `cml` commands that talk to it.

Only GitHub's API is mocked: under act the workflows run for real, but `gh` and `cml`
resolve to the small shims next to this file, which keep issues, pull requests and
comments in one JSON file (`$FAKE_GITHUB_DIR/state.json`) instead of calling GitHub.
Tests read that file to see what would have been posted.

Emulated, with the semantics the workflows rely on:
- `gh api [-X METHOD] [-f k=v] [-F k=v] [--input FILE] [--paginate] [--jq EXPR] ENDPOINT` for
  issues, issue comments, pull requests and labels of `repos/OWNER/REPO/...`;
- `gh pr comment|view|create|list`, `gh issue create|list|comment|view|edit|close`, `gh label create`;
- `gh api -X PUT .../actions/workflows/ID/enable` (a workflow's state, for keep-alive);
- `gh api .../actions/runs/ID/artifacts` (what a run uploaded: the artifact stand-ins keep each
  run's artifacts in `$ACT_ARTIFACTS_DIR/runs/ID/NAME/`);
- the setting "Allow GitHub Actions to create and approve pull requests" (`set_setting`): when
  off, a pull request opened with the workflow's token (ACTIONS_TOKEN) is refused with 403;
- GitHub's git server: the act driver points `git push` for the repository at a bare
  repository in `$FAKE_GITHUB_DIR/git/OWNER/REPO.git`; `gh pr create` requires its head
  branch to have been pushed there, as GitHub does;
- `cml comment create|update` (a watermark marks CML's comment; `update` edits the last
  comment carrying it, so every push updates one sticky comment), `cml publish`; local
  images in the markdown are "uploaded" to `$FAKE_GITHUB_DIR/assets/` and their links
  rewritten, as CML does. With FAKE_CML_FAILS set, CML's asset host is down: every
  `cml` call fails and posts nothing.
Each comment records `via`: the tool that last wrote it (`gh` or `cml`). Both refuse to
work without a token (`GITHUB_TOKEN`/`GH_TOKEN`, `REPO_TOKEN` for cml), as the real tools do.
Standard library only: the shims run with any python3.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

BOT = "github-actions[bot]"
ASSET_URL = "https://asset.cml.test/"
# The token a workflow gets (GITHUB_TOKEN): an app installation token, `ghs_…` as on GitHub. Any other
# token stands for a personal access token (e.g. the RETRAIN_TOKEN secret).
ACTIONS_TOKEN = "ghs_fake_token_for_act"  # noqa: S105 - not a secret: the stand-ins only check that one is set
# Repository settings the workflows depend on, as a new repository has them unless a test changes them.
DEFAULT_SETTINGS = {"actions_can_create_pull_requests": True}


class ApiError(Exception):
    """An HTTP error as gh prints it: 'gh: Not Found (HTTP 404)'."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{message} (HTTP {status})")
        self.status = status


# ---------------------------------------------------------------------------------------
# state


def state_dir() -> Path:
    value = os.environ.get("FAKE_GITHUB_DIR")
    if not value:
        sys.exit("fake GitHub: FAKE_GITHUB_DIR is not set (the act driver sets it)")
    path = Path(value)
    path.mkdir(parents=True, exist_ok=True)
    return path


def empty_state() -> dict[str, Any]:
    return {"next_id": 1000, "next_number": 100, "pulls": {}, "issues": [], "comments": [], "assets": [], "calls": []}


def load(directory: Path | None = None) -> dict[str, Any]:
    path = (directory or state_dir()) / "state.json"
    if not path.exists():
        return empty_state()
    state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return state


def save(state: dict[str, Any], directory: Path | None = None) -> None:
    path = (directory or state_dir()) / "state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def add_pull(directory: Path, number: int, head_sha: str, *, head_repo: str = "", base: str = "main") -> None:
    """Seed a pull request (tests call this before a run; pull requests are issues too)."""
    state = load(directory)
    state["pulls"][str(number)] = {"number": number, "head": {"sha": head_sha, "repo": head_repo}, "base": base}
    save(state, directory)


def set_setting(directory: Path, name: str, value: object) -> None:
    """Change a repository setting (Settings → Actions → General), as an admin would."""
    if name not in DEFAULT_SETTINGS:
        raise KeyError(f"fake GitHub: no setting {name!r}; known: {', '.join(DEFAULT_SETTINGS)}")
    state = load(directory)
    state.setdefault("settings", {})[name] = value
    save(state, directory)


def _setting(state: dict[str, Any], name: str) -> Any:
    return state.get("settings", {}).get(name, DEFAULT_SETTINGS[name])


def _token() -> str:
    return os.environ.get("GH_TOKEN") or os.environ.get("GITHUB_TOKEN") or ""


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _new_id(state: dict[str, Any]) -> int:
    state["next_id"] += 1
    return int(state["next_id"])


def _comment(state: dict[str, Any], issue: int, body: str, via: str) -> dict[str, Any]:
    comment = {
        "id": _new_id(state),
        "issue": issue,
        "body": body,
        "user": {"login": BOT},
        "created_at": _now(),
        "updated_at": _now(),
        "via": via,
        "edits": 0,
    }
    state["comments"].append(comment)
    return comment


def _issue(state: dict[str, Any], number: int) -> dict[str, Any]:
    for issue in state["issues"]:
        if issue["number"] == number:
            return dict(issue)
    if str(number) in state["pulls"]:
        return {"number": number, "pull_request": {}, "state": "open"}
    raise ApiError(404, "Not Found")


def _require_token(*names: str) -> None:
    if not any(os.environ.get(n) for n in names):
        sys.exit(f"fake GitHub: no token; set one of {', '.join(names)} (the real tool would fail too)")


# ---------------------------------------------------------------------------------------
# the REST API subset


def api(state: dict[str, Any], method: str, endpoint: str, fields: dict[str, Any]) -> Any:  # noqa: PLR0911, PLR0912
    """Answer one REST call the way GitHub would (the subset the workflows use)."""
    path = endpoint.split("?", 1)[0].strip("/")
    query = dict(p.split("=", 1) for p in endpoint.split("?", 1)[1].split("&")) if "?" in endpoint else {}
    if method == "GET":
        fields = {**query, **fields}
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "repos":
        raise ApiError(404, f"Not Found: {endpoint} is not emulated")
    rest = parts[3:]
    match rest, method:
        case ["issues", num, "comments"], "GET":
            return [c for c in state["comments"] if c["issue"] == int(num)]
        case ["issues", num, "comments"], "POST":
            _issue(state, int(num))
            return _comment(state, int(num), str(fields["body"]), "gh")
        case ["issues", "comments", cid], ("PATCH" | "GET" | "DELETE"):
            found = [c for c in state["comments"] if c["id"] == int(cid)]
            if not found:
                raise ApiError(404, "Not Found")
            if method == "PATCH":
                found[0].update(body=str(fields["body"]), updated_at=_now(), edits=found[0]["edits"] + 1, via="gh")
            if method == "DELETE":
                state["comments"].remove(found[0])
                return None
            return found[0]
        case ["pulls", num], "GET":
            pull = state["pulls"].get(num)
            if pull is None:
                raise ApiError(404, "Not Found")
            return pull
        case ["pulls"], "GET":
            return list(state["pulls"].values())
        case ["commits", sha, "pulls"], "GET":
            return [p for p in state["pulls"].values() if p["head"]["sha"] == sha]
        case ["issues"], "GET":
            wanted = set(filter(None, str(fields.get("labels", "")).split(",")))
            status = fields.get("state", "open")
            return [
                i for i in state["issues"] if (status == "all" or i["state"] == status) and wanted <= set(i["labels"])
            ]
        case ["issues"], "POST":
            state["next_number"] += 1
            labels = fields.get("labels", [])
            issue = {
                "number": state["next_number"],
                "title": str(fields["title"]),
                "body": str(fields.get("body", "")),
                "labels": [labels] if isinstance(labels, str) else list(labels),
                "state": "open",
                "created_at": _now(),
                "html_url": f"https://github.com/{parts[1]}/{parts[2]}/issues/{state['next_number']}",
            }
            state["issues"].append(issue)
            return issue
        case ["issues", num], "GET":
            return _issue(state, int(num))
        case ["issues", num], "PATCH":
            for issue in state["issues"]:
                if issue["number"] == int(num):
                    issue.update({k: v for k, v in fields.items() if k in {"title", "body", "state", "labels"}})
                    return issue
            raise ApiError(404, "Not Found")
        case ["labels"], "GET":
            return list(state.setdefault("labels", {}).values())
        case ["labels"], "POST":
            labels = state.setdefault("labels", {})
            name = str(fields.get("name", ""))
            if name in labels:
                raise ApiError(422, "Validation Failed: already_exists")
            labels[name] = {k: fields[k] for k in ("name", "color", "description") if k in fields}
            return labels[name]
        case ["labels", name], "PATCH":
            labels = state.setdefault("labels", {})
            if name not in labels:
                raise ApiError(404, "Not Found")
            labels[name].update({k: fields[k] for k in ("color", "description") if k in fields})
            return labels[name]
        case ["pulls"], "POST":
            return _create_pull(state, parts[1] + "/" + parts[2], fields)
        case ["actions", "workflows", workflow, "enable" | "disable" as action], "PUT":
            entry = state.setdefault("workflows", {}).setdefault(workflow, {"state": "active", "enable_calls": 0})
            entry["state"] = "active" if action == "enable" else "disabled_manually"
            entry["enable_calls"] += action == "enable"
            entry["updated_at"] = _now()
            return None
        case ["actions", "runs", run_id, "artifacts"], "GET":
            return _run_artifacts(run_id, str(fields.get("name", "")))
        case ["actions", "workflows", workflow], "GET":
            entry = state.setdefault("workflows", {}).get(workflow, {"state": "active"})
            return {"path": f".github/workflows/{workflow}", **entry}
    raise ApiError(404, f"Not Found: {method} {endpoint} is not emulated")


def _run_artifacts(run_id: str, name: str) -> dict[str, Any]:
    """GitHub's list of a run's artifacts (optionally one name), from what the upload stand-in kept."""
    root = Path(os.environ.get("ACT_ARTIFACTS_DIR", "/nonexistent")) / "runs" / run_id
    found = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    listed = [{"id": index + 1, "name": n, "expired": False} for index, n in enumerate(found) if not name or n == name]
    return {"total_count": len(listed), "artifacts": listed}


def git_server(repository: str, directory: Path | None = None) -> Path:
    """The bare repository that stands in for GitHub's git server (the act driver pushes there)."""
    return (directory or state_dir()) / "git" / f"{repository}.git"


def _create_pull(state: dict[str, Any], repository: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A pull request from a pushed branch: GitHub refuses one whose head branch does not exist."""
    import subprocess

    head, base = str(fields["head"]), str(fields.get("base", "main"))
    if _token() == ACTIONS_TOKEN and not _setting(state, "actions_can_create_pull_requests"):
        # "Allow GitHub Actions to create and approve pull requests" is off (Settings → Actions → General)
        raise ApiError(403, "GitHub Actions is not permitted to create or approve pull requests.")
    server = git_server(repository)
    found = subprocess.run(
        ["git", "--git-dir", str(server), "rev-parse", "--verify", "--quiet", f"refs/heads/{head}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        raise ApiError(422, f"Validation Failed: head branch {head!r} has not been pushed to {repository}")
    for pull in state["pulls"].values():
        if pull.get("head", {}).get("ref") == head and pull.get("state", "open") == "open":
            raise ApiError(422, f"Validation Failed: a pull request already exists for {head}")
    state["next_number"] += 1
    number = state["next_number"]
    url = f"https://github.com/{repository}/pull/{number}"
    labels = fields.get("labels", [])
    pull = {
        "number": number,
        "title": str(fields.get("title", "")),
        "body": str(fields.get("body", "")),
        "head": {"ref": head, "sha": found.stdout.strip(), "repo": repository},
        "base": base,
        "state": "open",
        "labels": [labels] if isinstance(labels, str) else list(labels),
        "html_url": url,
        "url": url,
        "created_at": _now(),
    }
    state["pulls"][str(number)] = pull
    return pull


def jq(data: Any, expression: str) -> list[Any]:
    """A small subset of jq: `.`, `.a.b`, `.[]`, `.[N]`, `length`, chained with `|` or directly."""
    values = [data]
    for stage in [s.strip() for s in expression.split("|")]:
        if stage == "length":
            values = [len(v) for v in values]
            continue
        for step in re.findall(r"\.\[\]|\.\[-?\d+\]|\.[A-Za-z_][A-Za-z0-9_]*|\.$", stage):
            nxt: list[Any] = []
            for v in values:
                if step == ".[]":
                    nxt.extend(v if isinstance(v, list) else list(v.values()))
                elif step.startswith(".["):
                    nxt.append(v[int(step[2:-1])])
                elif step == ".":
                    nxt.append(v)
                else:
                    nxt.append(None if v is None else v.get(step[1:]))
            values = nxt
    return values


def _print(data: Any, expression: str | None) -> None:
    if expression:
        for value in jq(data, expression):
            print(value if isinstance(value, str) else json.dumps(value))
    elif data is not None:
        print(json.dumps(data, indent=2))


def _repo() -> str:
    repo = os.environ.get("GH_REPO") or os.environ.get("GITHUB_REPOSITORY")
    if not repo:
        sys.exit("fake gh: no repository; set GH_REPO or GITHUB_REPOSITORY")
    return repo


def _body(args: argparse.Namespace) -> str:
    if getattr(args, "body_file", None):
        return sys.stdin.read() if args.body_file == "-" else Path(args.body_file).read_text(encoding="utf-8")
    return str(getattr(args, "body", None) or "")


# ---------------------------------------------------------------------------------------
# gh


def gh(argv: list[str]) -> int:
    state = load()
    state["calls"].append({"tool": "gh", "argv": argv})
    if argv[:1] == ["--version"]:
        print("gh version 2.99.0 (fake GitHub stand-in)")
        return 0
    _require_token("GH_TOKEN", "GITHUB_TOKEN")
    parser = argparse.ArgumentParser(prog="gh")
    sub = parser.add_subparsers(dest="group", required=True)

    p_api = sub.add_parser("api")
    p_api.add_argument("endpoint")
    p_api.add_argument("-X", "--method", default=None)
    p_api.add_argument("-f", "--raw-field", action="append", default=[])
    p_api.add_argument("-F", "--field", action="append", default=[])
    p_api.add_argument("-H", "--header", action="append", default=[])
    p_api.add_argument("--input")
    p_api.add_argument("--paginate", action="store_true")
    p_api.add_argument("--slurp", action="store_true")
    p_api.add_argument("-q", "--jq")
    p_api.add_argument("--silent", action="store_true")

    p_pr = sub.add_parser("pr")
    pr_sub = p_pr.add_subparsers(dest="action", required=True)
    p_prc = pr_sub.add_parser("comment")
    p_prv = pr_sub.add_parser("view")
    for p in (p_prc, p_prv):
        p.add_argument("number", type=int)
        p.add_argument("-R", "--repo")
    p_prc.add_argument("-b", "--body")
    p_prc.add_argument("-F", "--body-file")
    p_prc.add_argument("--edit-last", action="store_true")
    p_prc.add_argument("--create-if-none", action="store_true")
    p_prv.add_argument("--json", default="")
    p_prv.add_argument("-q", "--jq")
    p_prcr = pr_sub.add_parser("create")
    p_prcr.add_argument("-B", "--base", default="main")
    p_prcr.add_argument("-H", "--head", required=True)
    p_prcr.add_argument("-t", "--title", required=True)
    p_prcr.add_argument("-b", "--body")
    p_prcr.add_argument("-F", "--body-file")
    p_prcr.add_argument("-l", "--label", action="append", default=[])
    p_prcr.add_argument("-R", "--repo")
    p_prl = pr_sub.add_parser("list")
    p_prl.add_argument("-H", "--head", default="")
    p_prl.add_argument("-s", "--state", default="open")
    p_prl.add_argument("--json", default="")
    p_prl.add_argument("-q", "--jq")
    p_prl.add_argument("-R", "--repo")

    p_label = sub.add_parser("label")
    label_sub = p_label.add_subparsers(dest="action", required=True)
    p_lc = label_sub.add_parser("create")
    p_lc.add_argument("name")
    p_lc.add_argument("-c", "--color", default="ededed")
    p_lc.add_argument("-d", "--description", default="")
    p_lc.add_argument("-f", "--force", action="store_true")
    p_lc.add_argument("-R", "--repo")

    p_issue = sub.add_parser("issue")
    is_sub = p_issue.add_subparsers(dest="action", required=True)
    p_ic = is_sub.add_parser("create")
    p_ic.add_argument("-t", "--title", required=True)
    p_il = is_sub.add_parser("list")
    p_il.add_argument("-l", "--label", action="append", default=[])
    p_il.add_argument("-s", "--state", default="open")
    p_il.add_argument("--json", default="")
    p_il.add_argument("-q", "--jq")
    p_il.add_argument("-L", "--limit", type=int, default=30)
    p_ico = is_sub.add_parser("comment")
    p_ico.add_argument("number", type=int)
    p_ie = is_sub.add_parser("edit")
    p_ie.add_argument("number", type=int)
    p_ie.add_argument("-t", "--title")
    p_ie.add_argument("--add-label", action="append", default=[])
    p_icl = is_sub.add_parser("close")
    p_icl.add_argument("number", type=int)
    p_iv = is_sub.add_parser("view")
    p_iv.add_argument("number", type=int)
    p_iv.add_argument("--json", default="")
    p_iv.add_argument("-q", "--jq")
    for p in (p_ic, p_ico, p_ie):
        p.add_argument("-b", "--body")
        p.add_argument("-F", "--body-file")
    p_ic.add_argument("-l", "--label", action="append", default=[])
    for p in (p_ic, p_il, p_ico, p_ie, p_icl, p_iv):
        p.add_argument("-R", "--repo")

    args = parser.parse_args(argv)
    try:
        result = _gh(state, args)
    except ApiError as exc:
        save(state)
        print(f"gh: {exc}", file=sys.stderr)
        return 1
    save(state)
    return result


def _fields(args: argparse.Namespace) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if args.input:
        text = sys.stdin.read() if args.input == "-" else Path(args.input).read_text(encoding="utf-8")
        fields.update(json.loads(text))
    for item in args.raw_field:
        key, _, value = item.partition("=")
        fields[key] = value
    for item in args.field:
        key, _, value = item.partition("=")
        if value.startswith("@"):
            fields[key] = Path(value[1:]).read_text(encoding="utf-8")
        elif re.fullmatch(r"-?\d+", value):
            fields[key] = int(value)
        elif value in {"true", "false"}:
            fields[key] = value == "true"
        else:
            fields[key] = value
    key_list = [k for k in fields if k.endswith("[]")]
    for key in key_list:  # -f labels[]=x
        fields[key[:-2]] = [fields.pop(key)]
    return fields


def _gh(state: dict[str, Any], args: argparse.Namespace) -> int:  # noqa: PLR0911, PLR0912
    repo = getattr(args, "repo", None) or (None if args.group == "api" else _repo())
    if args.group == "api":
        endpoint = args.endpoint.replace("{owner}/{repo}", _repo())
        fields = _fields(args)
        method = (args.method or ("POST" if (args.input or args.raw_field or args.field) else "GET")).upper()
        data = api(state, method, endpoint, fields)
        if args.slurp:
            data = [data]
        if not args.silent:
            _print(data, args.jq)
        return 0
    base = f"repos/{repo}"
    if args.group == "pr" and args.action == "comment":
        body = _body(args)
        mine = [c for c in state["comments"] if c["issue"] == args.number and c["user"]["login"] == BOT]
        if args.edit_last and mine:
            api(state, "PATCH", f"{base}/issues/comments/{mine[-1]['id']}", {"body": body})
        elif args.edit_last and not args.create_if_none:
            raise ApiError(404, "no comments found for current user")
        else:
            api(state, "POST", f"{base}/issues/{args.number}/comments", {"body": body})
        print(f"https://github.com/{repo}/pull/{args.number}#issuecomment")
        return 0
    if args.group == "pr" and args.action == "create":
        pull = api(
            state,
            "POST",
            f"{base}/pulls",
            {"head": args.head, "base": args.base, "title": args.title, "body": _body(args), "labels": args.label},
        )
        print(pull["html_url"])
        return 0
    if args.group == "pr" and args.action == "list":
        pulls = [
            p
            for p in state["pulls"].values()
            if (args.state == "all" or p.get("state", "open") == args.state)
            and (not args.head or p.get("head", {}).get("ref") == args.head)
        ]
        if args.json:
            _print([{k: p.get(k) for k in args.json.split(",")} for p in pulls], args.jq)
        else:
            for p in pulls:
                print(f"{p['number']}\t{p.get('title', '')}\t{p.get('head', {}).get('ref', '')}")
        return 0
    if args.group == "label":
        fields = {"name": args.name, "color": args.color, "description": args.description}
        try:
            api(state, "POST", f"{base}/labels", fields)
        except ApiError as exc:
            if exc.status != 422 or not args.force:
                raise
            api(state, "PATCH", f"{base}/labels/{args.name}", fields)
        return 0
    if args.group == "pr" and args.action == "view":
        pull = api(state, "GET", f"{base}/pulls/{args.number}", {})
        view = {"number": pull["number"], "headRefOid": pull["head"]["sha"], "baseRefName": pull["base"]}
        _print({k: v for k, v in view.items() if k in args.json.split(",")} if args.json else view, args.jq)
        return 0
    if args.action == "create":
        issue = api(state, "POST", f"{base}/issues", {"title": args.title, "body": _body(args), "labels": args.label})
        print(issue["html_url"])
        return 0
    if args.action == "list":
        issues = api(state, "GET", f"{base}/issues", {"labels": ",".join(args.label), "state": args.state})
        issues = issues[: args.limit]
        if args.json:
            keys = args.json.split(",")
            _print([{k: i.get(k) for k in keys} for i in issues], args.jq)
        else:
            for i in issues:
                print(f"{i['number']}\t{i['state'].upper()}\t{i['title']}")
        return 0
    if args.action == "comment":
        api(state, "POST", f"{base}/issues/{args.number}/comments", {"body": _body(args)})
        return 0
    if args.action == "edit":
        issue = _issue(state, args.number)
        changes: dict[str, Any] = {"labels": sorted({*issue.get("labels", []), *args.add_label})}
        if args.title:
            changes["title"] = args.title
        if args.body or args.body_file:
            changes["body"] = _body(args)
        api(state, "PATCH", f"{base}/issues/{args.number}", changes)
        return 0
    if args.action == "close":
        api(state, "PATCH", f"{base}/issues/{args.number}", {"state": "closed"})
        return 0
    if args.action == "view":
        issue = _issue(state, args.number)
        _print({k: issue.get(k) for k in args.json.split(",")} if args.json else issue, args.jq)
        return 0
    raise ApiError(404, f"gh {args.group} {args.action} is not emulated")


# ---------------------------------------------------------------------------------------
# cml


def watermark(title: str, sha: str = "") -> str:
    """The marker CML appends to its comments (CML's own format); `update` finds the comment by it."""
    label = f"CML watermark {title}".strip()
    return f'![](https://cml.dev/watermark.png#{sha or "0"} "{label}")'


def has_watermark(body: str, title: str) -> bool:
    """CML's test: the watermark with any commit hash."""
    label = re.escape(f"CML watermark {title}".strip())
    return re.search(rf'!\[\]\(https://cml\.dev/watermark\.png#[0-9a-fA-F]+ "{label}"\)', body) is not None


def publish(state: dict[str, Any], image: Path) -> str:
    """Store a local file as an uploaded asset and return its URL (like `cml publish`)."""
    if not image.is_file():
        raise FileNotFoundError(f"cml: ENOENT: no such file or directory, open '{image}'")
    data = image.read_bytes()
    name = hashlib.sha256(data).hexdigest()[:20] + image.suffix
    assets = state_dir() / "assets"
    assets.mkdir(exist_ok=True)
    shutil.copyfile(image, assets / name)
    state["assets"].append({"name": name, "source": str(image), "bytes": len(data)})
    return ASSET_URL + name


_LOCAL_LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)([^)]*)\)")


def publish_local_files(state: dict[str, Any], markdown: str, base: Path) -> str:
    """Upload every local image and link target, as `cml comment --publish` (CML's default) does.

    Like CML, a file that does not exist is left as it is (CML only logs it at debug level);
    it is recorded under `missing_assets` so tests can catch broken images.
    """

    def upload(match: re.Match[str]) -> str:
        bang, alt, target, rest = match.groups()
        if re.match(r"^[a-z]+:", target) or target.startswith("#") or "CML watermark" in rest:
            return match.group(0)
        path = base / target
        if not path.is_file():
            state.setdefault("missing_assets", []).append(str(path))
            return match.group(0)
        return f"{bang}[{alt}]({publish(state, path)}{rest})"

    return _LOCAL_LINK.sub(upload, markdown)


def cml(argv: list[str]) -> int:
    state = load()
    state["calls"].append({"tool": "cml", "argv": argv})
    if argv[:1] == ["--version"]:
        print("0.20.6 (fake GitHub stand-in)")
        save(state)
        return 0
    parser = argparse.ArgumentParser(prog="cml")
    sub = parser.add_subparsers(dest="group", required=True)
    p_comment = sub.add_parser("comment")
    p_comment.add_argument("action", choices=["create", "update"])
    p_comment.add_argument("markdown")
    p_comment.add_argument("--target", default="")
    p_comment.add_argument("--watermark-title", default="")
    p_comment.add_argument("--publish", action=argparse.BooleanOptionalAction, default=True)
    p_comment.add_argument("--publish-url", default="https://asset.cml.dev")
    p_comment.add_argument("--native", action="store_true")
    p_comment.add_argument("--commit-sha", "--head-sha", default="")
    p_comment.add_argument("--token", default="")
    p_comment.add_argument("--repo", default="")
    p_comment.add_argument("--driver", default="github")
    p_publish = sub.add_parser("publish")
    p_publish.add_argument("file")
    p_publish.add_argument("--md", action="store_true")
    args = parser.parse_args(argv)
    if not getattr(args, "token", None):
        _require_token("REPO_TOKEN", "GITHUB_TOKEN")
    if os.environ.get("FAKE_CML_FAILS"):  # a test makes CML's asset host fail, as it can on GitHub
        save(state)
        print(
            f"Error: request to {args.publish_url if args.group == 'comment' else 'https://asset.cml.dev'} "
            "failed: 503 Service Unavailable",
            file=sys.stderr,
        )
        return 1
    try:
        if args.group == "publish":
            url = publish(state, Path(args.file))
            print(f"![]({url})" if args.md else url)
        else:
            _cml_comment(state, args)
    except (ApiError, FileNotFoundError) as exc:
        save(state)
        print(str(exc), file=sys.stderr)
        return 1
    save(state)
    return 0


def _cml_comment(state: dict[str, Any], args: argparse.Namespace) -> None:
    source = Path(args.markdown)
    body = source.read_text(encoding="utf-8")
    sha = args.commit_sha or os.environ.get("GITHUB_SHA", "")
    title = args.watermark_title.replace("{workflow}", os.environ.get("GITHUB_WORKFLOW", "")).replace(
        "{run}", os.environ.get("GITHUB_RUN_ID", "")
    )
    body = body + "\n\n" + watermark(title, sha)
    if args.publish:
        body = publish_local_files(state, body, source.parent)
    target = args.target
    if target.startswith("pr/"):
        number = int(target.split("/", 1)[1])
        if str(number) not in state["pulls"]:
            raise ApiError(404, f"cml: pull request {number} not found")
    elif target in {"", "pr", "auto"}:
        pulls = [p for p in state["pulls"].values() if p["head"]["sha"] == sha]
        if not pulls:
            raise ApiError(404, f"cml: no pull request for commit {sha}; pass --target=pr/N")
        number = pulls[0]["number"]
    else:
        raise ApiError(400, f"cml stand-in: target {target!r} is not emulated (use pr/N)")
    mine = [c for c in state["comments"] if c["issue"] == number and has_watermark(c["body"], title)]
    if args.action == "update" and mine:
        mine[-1].update(body=body, updated_at=_now(), edits=mine[-1]["edits"] + 1, via="cml")
    else:
        _comment(state, number, body, "cml")
    print(f"https://github.com/{_repo()}/pull/{number}#issuecomment-{state['next_id']}")


def main() -> int:
    tool, argv = sys.argv[1], sys.argv[2:]
    return gh(argv) if tool == "gh" else cml(argv)


if __name__ == "__main__":
    sys.exit(main())
