"""Every command a user or a workflow is told to run exists: asked of the real CLI and of make.

The Makefile, the workflows, dvc.yaml and the docs name `mlops` commands and their options; a command
that lost its registration (or an option that was renamed) only fails when that target runs,
which for deploy targets is on the first merge. So each `mlops X --opt` found there is
checked against `mlops X --help` (a subprocess: what a shell would run), and every target
that `make help` lists must be understood by `make -n`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MLOPS = str(Path(sys.executable).parent / "mlops")
# `mlops` as a command word (not mlops_template / mlops-template), its subcommand, then the rest of the
# command up to the end of the shell command or the code span.
_CALL = re.compile(r"(?:^|[\s;&|(`])mlops[ \t]+([a-z][a-z-]*)([^;&|`\n]*)", re.MULTILINE)
_OPTION = re.compile(r"(?<![\w$(-])(--[a-z][a-z0-9-]*)")
_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
_SPAN = re.compile(r"`([^`\n]+)`")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _calls(text: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(command, tuple(_OPTION.findall(rest))) for command, rest in _CALL.findall(text)]


def makefile_calls() -> list[tuple[str, str, tuple[str, ...]]]:
    recipes = "\n".join(
        line for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines() if line.startswith("\t")
    )
    return [("Makefile", command, options) for command, options in _calls(recipes)]


def workflow_calls() -> list[tuple[str, str, tuple[str, ...]]]:
    """The workflows and actions, and dvc.yaml's stage commands (which `make run` runs)."""
    found = []
    for path in [*sorted((ROOT / ".github").rglob("*.y*ml")), ROOT / "dvc.yaml"]:
        for command, options in _calls(path.read_text(encoding="utf-8")):
            found.append((str(path.relative_to(ROOT)), command, options))
    return found


def docs_calls() -> list[tuple[str, str, tuple[str, ...]]]:
    """`mlops …` in fenced code blocks and in code spans of README.md and docs/."""
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        code = [m.group(1) for m in _FENCE.finditer(text)]
        code += [m.group(1) for m in _SPAN.finditer(_FENCE.sub("", text))]
        for block in code:
            found += [(str(path.relative_to(ROOT)), command, options) for command, options in _calls(block)]
    return found


@cache
def command_help(command: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "250", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run([MLOPS, command, "--help"], capture_output=True, text=True, env=env, check=False)


def _check(calls: list[tuple[str, str, tuple[str, ...]]]) -> list[str]:
    problems = []
    for where, command, options in calls:
        shown = command_help(command)
        if shown.returncode != 0:
            said = " ".join(line.strip("│╭╰─ ") for line in shown.stderr.splitlines() if line.strip("│╭╰─ "))
            problems.append(f"{where}: `mlops {command}` is not a command ({said})")
            continue
        text = _ANSI.sub("", shown.stdout)
        for option in options:
            if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text):
                problems.append(f"{where}: `mlops {command}` has no option {option}")
    return problems


def test_the_probe_tells_a_missing_command_and_option_from_real_ones() -> None:
    assert _check([("here", "drift", ("--current",))]) == []
    assert len(_check([("here", "no-such-command", ())])) == 1
    assert _check([("here", "drift", ("--no-such-option",))]) == ["here: `mlops drift` has no option --no-such-option"]


def test_every_mlops_command_the_makefile_runs_is_registered() -> None:
    calls = makefile_calls()
    assert {"report", "drift", "smoke", "deploy", "register"} <= {c for _, c, _ in calls}, calls
    assert _check(calls) == []


def test_every_mlops_command_the_workflows_and_dvc_stages_name_is_registered() -> None:
    calls = workflow_calls()
    assert {"ingest", "validate", "train", "evaluate"} <= {c for _, c, _ in calls}, calls
    assert _check(calls) == []


def test_every_mlops_command_in_the_docs_code_is_registered() -> None:
    calls = docs_calls()
    assert calls, "no `mlops …` found in README.md or docs/: has the parser stopped matching?"
    assert _check(calls) == []


def make_help_targets() -> list[str]:
    shown = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return [line.split()[0] for line in _ANSI.sub("", shown).splitlines() if line.strip()]


def test_make_help_lists_the_targets_ci_calls() -> None:
    targets = set(make_help_targets())
    assert {"install", "test", "run", "report", "post-report", "drift", "drift-issue", "ci-local"} <= targets


@pytest.mark.parametrize("target", make_help_targets(), ids=lambda target: f"make_{target.replace('-', '_')}")
def test_make_dry_runs_every_listed_target(target: str) -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", target], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() or target == "install", f"make -n {target} prints nothing to do"


def test_make_dry_run_fails_for_an_unknown_target() -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "no-such-target"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
