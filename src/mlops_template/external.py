"""Running the programs the code leans on (git, dvc, gh, cml, kubectl, aws): one way, one error.

Every call passes its arguments as a list (never through a shell) and captures the
output; a failure raises `CommandError` naming the command and the last lines it printed,
which is what a person needs to act on it. Standard library only: `make post-report`
imports this without the project's environment.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

TAIL_LINES = 15
MAX_COMMAND_CHARS = 300


class CommandError(RuntimeError):
    """A program failed, or is not installed; the message names it and what it said."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


class NotInstalledError(CommandError):
    """The program is not on PATH: the caller can say how to install it."""


def _named(args: Sequence[str]) -> str:
    """The command as a person would type it, shortened when long (a manifest on stdin is not in it)."""
    text = shlex.join(args)
    return text if len(text) <= MAX_COMMAND_CHARS else text[: MAX_COMMAND_CHARS - 1] + "…"


def run(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    timeout: float | None = None,
) -> str:
    """Run `args` and return its standard output; raise CommandError when it fails or outlasts `timeout` s."""
    try:
        # S603: a fixed program and arguments built by the caller, never a shell
        result = subprocess.run(  # noqa: S603
            list(args),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    except FileNotFoundError as exc:
        raise NotInstalledError(f"`{args[0]}` is not installed (not found on PATH)") from exc
    except subprocess.TimeoutExpired as exc:
        raise CommandError(f"`{_named(args)}` did not finish within {timeout:g} s") from exc
    if result.returncode != 0:
        said = (result.stderr or result.stdout).strip()
        tail = "\n".join(said.splitlines()[-TAIL_LINES:])
        raise CommandError(f"`{_named(args)}` failed (exit {result.returncode}): {tail}", said)
    return result.stdout


def output_or_none(args: Sequence[str], *, cwd: Path | None = None, timeout: float | None = None) -> str | None:
    """The stripped output of a query (`git config user.email`), or None if it fails or prints nothing."""
    try:
        return run(args, cwd=cwd, timeout=timeout).strip() or None
    except CommandError:
        return None
