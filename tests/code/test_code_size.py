"""The code stays small enough for someone else to carry on (issue 14): a module does one job
and fits in a read (at most 350 lines), and the serving layer, which a user who adds a new
kind of check must understand, stays at most 1,100 lines. A module that outgrows its limit is
split by job, not squeezed."""

from __future__ import annotations

from pathlib import Path

import mlops_template

SOURCE = Path(mlops_template.__file__).parent
MAX_MODULE_LINES = 350
MAX_SERVING_LINES = 1_100


def lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_module_is_over_its_limit() -> None:
    sizes = {str(path.relative_to(SOURCE)): lines(path) for path in SOURCE.rglob("*.py")}
    assert len(sizes) > 20, f"found only {sorted(sizes)} under {SOURCE}"
    too_long = {name: size for name, size in sizes.items() if size > MAX_MODULE_LINES}
    assert not too_long, f"modules over {MAX_MODULE_LINES} lines: {too_long}"


def test_the_serving_layer_is_within_its_budget() -> None:
    files = sorted((SOURCE / "serving").glob("*.py"))
    assert {path.name for path in files} >= {"service.py", "request.py", "predictor.py"}
    total = sum(lines(path) for path in files)
    assert total <= MAX_SERVING_LINES, {path.name: lines(path) for path in files}
