"""Markdown tables as GitHub renders them: the one writer behind every report's tables.

The data gate's report, the PR comment and the drift issue all show values that come from
the data or the settings (a category spelled `a|b`, a note with a line break). In a table
a `|` ends the cell and a newline ends the row, so such a value would break the table
(and the PR comment with it). Every cell, header included, goes through `cell`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

MISSING = "—"
_PIPE = re.compile(r"(\\*)\|")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def cell(value: object) -> str:
    """`value` as one table cell: `|` escaped (GitHub un-escapes it, in code spans too; a
    backslash just before it is doubled so that it cannot escape the escape), line breaks
    made spaces, None shown as a dash."""
    text = MISSING if value is None else str(value)
    text = _PIPE.sub(lambda m: m.group(1) * 2 + "\\|", text)
    return _LINE_BREAK.sub(" ", text)


def table(header: Sequence[object], rows: Iterable[Sequence[object]], align: str = "") -> list[str]:
    """The lines of a table. `align` gives a letter per column, `l` or `r` (missing: left)."""
    rule = ["---:" if align[i : i + 1] == "r" else "---" for i in range(len(header))]
    lines = [_row(header), "| " + " | ".join(rule) + " |"]
    return lines + [_row(row) for row in rows]


def _row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(cell(c) for c in cells) + " |"
