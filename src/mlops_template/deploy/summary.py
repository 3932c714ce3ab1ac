"""What a deploy run tells GitHub: the job summary, annotations and step outputs.

Everything is also printed, so a run on a laptop (or a log) says the same; outside GitHub
Actions nothing else is written.
"""

from __future__ import annotations

import os
from pathlib import Path


def on_github() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def _append(variable: str, text: str) -> None:
    target = os.environ.get(variable)
    if on_github() and target:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(text)


def write_summary(markdown: str) -> None:
    """The job summary (`$GITHUB_STEP_SUMMARY`), shown on the run's page."""
    _append("GITHUB_STEP_SUMMARY", markdown.rstrip() + "\n\n")


def write_outputs(values: dict[str, str]) -> None:
    """Step outputs for the steps and jobs after this one (`$GITHUB_OUTPUT`)."""
    _append("GITHUB_OUTPUT", "".join(f"{key}={value}\n" for key, value in values.items()))


def _annotate(level: str, title: str, message: str) -> None:
    if on_github():
        first = message.splitlines()[0] if message else ""
        print(f"::{level} title={title}::{first}", flush=True)


def warn(title: str, message: str) -> None:
    print(f"warning: {message}", flush=True)
    _annotate("warning", title, message)


def failed(title: str, message: str) -> None:
    """A failed deploy, loud: an error annotation and the whole message in the job summary."""
    _annotate("error", title, message)
    write_summary(f"## {title}\n\n```\n{message}\n```")


def released(env: str, image: str, smoke: str, notes: str) -> str:
    """A release that passed: the summary says what runs and how its smoke test went."""
    write_summary(f"## {env.capitalize()}: released `{image}`\n\n```\n{smoke}\n```\n\n{notes}")
    return f"{smoke}\n{env}: released {image} ({notes})"
