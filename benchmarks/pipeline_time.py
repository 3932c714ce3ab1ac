"""Wall time of the whole pipeline on the embedded sample, and of a no-op `dvc repro`.

Clones the tracked files into a temporary git repository (no outputs, no DVC cache),
runs `dvc repro` from scratch, then the no-op `dvc repro` several times.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def run(repo: Path, *args: str) -> float:
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.perf_counter()
    subprocess.run(args, cwd=repo, env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - started


def clone(target: Path) -> Path:
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    for output in ("metrics", "plots", "reports"):
        shutil.rmtree(target / output, ignore_errors=True)
    run(target, "git", "init", "-q")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--noop-repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = clone(Path(tmp) / "repo")
        full = run(repo, "dvc", "repro")
        noop = [run(repo, "dvc", "repro") for _ in range(args.noop_repeats)]
        status = [run(repo, "dvc", "status") for _ in range(args.noop_repeats)]
    print(f"dvc repro from scratch (6 stages, embedded sample): {full:.1f} s")
    print(f"no-op dvc repro: median {statistics.median(noop):.2f} s, best {min(noop):.2f} s")
    print(f"dvc status: median {statistics.median(status):.2f} s, best {min(status):.2f} s")


if __name__ == "__main__":
    main()
