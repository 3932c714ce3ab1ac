"""What every `mlops` command shares: the --params option and how a user's error is told.

An error a person can act on (`UserError`: bad data, bad settings, a missing input; or a
missing file) becomes one red line and exit code 1, never a traceback. Anything else is a
bug and keeps its traceback: catching `ValueError` here once hid those.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from mlops_template.errors import UserError
from mlops_template.params import DEFAULT_PARAMS, Params, load_params

__all__ = ["DEFAULT_PARAMS", "ParamsOption", "fail", "read_params", "user_errors"]

ParamsOption = Annotated[Path, typer.Option("--params", help="The params.yaml to read.")]
F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def user_errors(func: F) -> F:
    """Turn the errors a user can act on into a message and exit code 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (UserError, FileNotFoundError) as exc:
            fail(str(exc))

    return wrapper  # type: ignore[return-value]


def read_params(path: Path) -> Params:
    return load_params(path)
