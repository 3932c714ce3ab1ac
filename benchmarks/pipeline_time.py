"""Wall time of the whole pipeline on the embedded sample, and of a no-op `dvc repro`.

Clones the tracked files into a temporary git repository (no outputs, no DVC cache),
runs `dvc repro` from scratch, then the no-op `dvc repro` and `dvc status` several times.
Run from the repository root: `python -m benchmarks.pipeline_time`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.results import verdict, write_results
from tests.repos import clone_tracked_files, run

GOAL_FULL_S = 20
GOAL_NOOP_S = 1


def timed(repo: Path, *args: str) -> float:
    started = time.perf_counter()
    run(repo, *args)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--noop-repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = clone_tracked_files(Path(tmp) / "repo")
        full = timed(repo, "dvc", "repro")
        noop = [timed(repo, "dvc", "repro") for _ in range(args.noop_repeats)]
        status = [timed(repo, "dvc", "status") for _ in range(args.noop_repeats)]
    body = f"""`dvc repro` from scratch on the embedded sample in a temporary clone of the tracked files
(no outputs, no DVC cache), then {args.noop_repeats} no-op runs.

| what | time |
|---|---|
| `dvc repro` from scratch (every stage) | **{full:.1f} s** |
| no-op `dvc repro` | median **{statistics.median(noop):.2f} s**, best {min(noop):.2f} s |
| `dvc status` | median {statistics.median(status):.2f} s, best {min(status):.2f} s |

Goals: from scratch <= {GOAL_FULL_S:g} s, {verdict(full <= GOAL_FULL_S)}; the no-op median <= {GOAL_NOOP_S:g} s,
{verdict(statistics.median(noop) <= GOAL_NOOP_S)} (mostly DVC's own start-up: docs/benchmarks.md).
"""
    print(body)
    write_results("pipeline_time", "The pipeline's wall time", body)


if __name__ == "__main__":
    main()
