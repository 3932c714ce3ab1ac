"""The one way the code runs other programs (git, dvc, gh, kubectl, aws): real programs here,
each failure a `CommandError` that names the command and says what went wrong."""

from __future__ import annotations

import sys

import pytest

from mlops_template.external import TAIL_LINES, CommandError, NotInstalledError, output_or_none, run


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_the_output_comes_back_and_stdin_goes_in() -> None:
    assert run(python("import sys; print(sys.stdin.read().upper())"), stdin="abc") == "ABC\n"


def test_a_failure_names_the_command_and_keeps_only_the_last_lines() -> None:
    code = "import sys; [print(f'line {i}', file=sys.stderr) for i in range(40)]; sys.exit(3)"
    with pytest.raises(CommandError) as error:
        run(python(code))
    message = str(error.value)
    assert message.startswith(f"`{sys.executable} -c 'import sys")
    assert "failed (exit 3)" in message
    assert "line 39" in message
    assert "line 0\n" not in message
    assert len(message.splitlines()) == TAIL_LINES  # the command's line carries the first of them
    assert "line 0" in error.value.output  # everything it said is kept for the caller


def test_a_program_that_is_not_installed_is_said_so() -> None:
    with pytest.raises(NotInstalledError, match="`no-such-program-here` is not installed"):
        run(["no-such-program-here", "--version"])


def test_a_program_that_outlasts_its_timeout_is_stopped_and_said_so() -> None:
    with pytest.raises(CommandError, match=r"did not finish within 0\.5 s"):
        run(python("import time; time.sleep(30)"), timeout=0.5)


def test_a_query_that_fails_or_prints_nothing_is_none() -> None:
    assert output_or_none(python("print(' x ')")) == "x"
    assert output_or_none(python("pass")) is None
    assert output_or_none(python("import sys; sys.exit(1)")) is None


def test_a_long_command_is_named_in_full_up_to_a_limit() -> None:
    with pytest.raises(CommandError) as error:
        run(python("import sys; sys.exit(1)  # " + "x" * 1000))
    named = str(error.value).split("` failed")[0]
    assert 200 < len(named) <= 301
    assert named.endswith("…")
