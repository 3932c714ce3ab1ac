"""Where the benchmarks put what they measured: one markdown file per script.

Measured figures live in `benchmarks/results/<script>.md`, written by the script that
measured them, never in docstrings or tests: a reader can see when, on which commit and on
what machine a figure was taken, and re-run the command to check it. The docs link these
files instead of quoting them.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def _commit() -> str:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], check=False, capture_output=True, text=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{sha}{' (src modified)' if dirty.strip() else ''}"


def machine() -> str:
    """The machine in one line: what a figure depends on besides the code."""
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def verdict(met: bool) -> str:
    """How a results file says whether a goal was reached: plainly, either way."""
    return "met" if met else "NOT met"


def write_results(script: str, title: str, body: str) -> Path:
    """Write `benchmarks/results/<script>.md`: a header saying when/what/where, then `body`."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{script}.md"
    command = "python -m benchmarks." + script + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
    header = (
        f"# {title}\n\n"
        f"- measured: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
        f"- commit: {_commit()}\n"
        f"- machine: {machine()}\n"
        f"- command: `{command}`\n\n"
    )
    path.write_text(header + body.rstrip() + "\n", encoding="utf-8")
    print(f"results written to {path}")
    return path
