"""Temporary git repositories made from this one, for tests and benchmarks that run the
real `dvc repro`: one way to clone, one way to run a command inside."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
UNCACHED_OUTPUTS = ("metrics", "plots", "reports")  # committed DVC outputs (cache: false)


def run(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command in `repo` with this environment's tools and the clone's own source first
    on the import path (the installed package points at the original checkout)."""
    env = os.environ | {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(repo / "src"),
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    result = subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True, timeout=600, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def commit(repo: Path, message: str) -> None:
    run(repo, "git", "add", "-A")
    run(repo, "git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message)


def clone_tracked_files(repo: Path, source: Path = REPO_ROOT, *, committed_outputs: bool = False) -> Path:
    """A new git repository (branch main) with the tracked files of `source` and none of its
    outputs: no DVC cache, no cached outputs (git ignores them), and no committed metrics,
    plots or reports unless `committed_outputs` (what a fresh `git clone` has). DVC-tracked
    input files present in `source` are copied too (as after `make pull`). Uncommitted
    edits to tracked files come along, as in CI's checkout of a working tree."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=source, capture_output=True, check=True).stdout
    names = list(filter(None, tracked.decode().split("\0")))
    # DVC-tracked inputs (`X.dvc` in git, X pulled from the remote) come along when they are here,
    # as in a CI checkout after `make pull`: e.g. the labelled batches listed in data.extra_inputs.
    names += [name.removesuffix(".dvc") for name in names if name.endswith(".dvc") and "/" in name]
    for name in names:
        if (source / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, repo / name)
    for output in () if committed_outputs else UNCACHED_OUTPUTS:
        shutil.rmtree(repo / output, ignore_errors=True)
    run(repo, "git", "init", "-q", "-b", "main")
    commit(repo, "clone")
    return repo
