"""Imports point one way (shared/STYLE.md), read off the source with `ast`, lazy imports included.

The service loads the contract and the cleaning rules, never the gate, the stages, the PR
report or the drift check; the drift check never loads the service or training; the PR
report reads DVC's outputs and imports no stage; the contract and what sits next to it
import nothing above them; nothing but the CLI's own modules imports the CLI. A rule is
checked on every import a module makes and, for the service and the drift check, on
everything those imports load in turn.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

import mlops_template

PACKAGE = "mlops_template"
SOURCE = Path(mlops_template.__file__).parent
CORE = (
    "params",
    "errors",
    "files",
    "schema",
    "checks",
    "features",
    "cleaning",
    "markdown_table",
    "gate_report",
    "model_files",
    "data.read",
)
STAGES_AND_APPS = (
    "validate",
    "prepare",
    "split",
    "train",
    "evaluate",
    "report",
    "serving",
    "drift",
    "deploy",
    "cli",
    "data.ingest",
    "data.generate",
)
# (who, the modules it must not import, also through what it imports)
RULES: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("serving", ("train", "evaluate", "report", "drift", "validate", "prepare", "split", "cli"), True),
    ("drift", ("serving", "train", "validate", "prepare", "cli"), True),
    ("report", ("train", "evaluate", "prepare", "validate", "serving", "drift", "cli"), False),
    ("train", ("evaluate", "report", "serving", "drift", "cli"), False),
    *((core, STAGES_AND_APPS, True) for core in CORE),
)


def module_name(path: Path, root: Path = SOURCE) -> str:
    parts = [PACKAGE, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, name: str, is_package: bool, known: Iterable[str]) -> set[str]:
    """Every project module `source` imports, at the top or inside a function."""
    modules = set(known)
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *([base] if base else [])])
            found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names}
    return {m for m in found if m == PACKAGE or m.startswith(PACKAGE + ".")}


def import_graph(root: Path = SOURCE) -> dict[str, set[str]]:
    files = {module_name(path, root): path for path in root.rglob("*.py")}
    return {
        name: imports_of(path.read_text(encoding="utf-8"), name, path.name == "__init__.py", files)
        for name, path in files.items()
    }


def within(module: str, part: str) -> bool:
    full = f"{PACKAGE}.{part}"
    return module == full or module.startswith(full + ".")


def loaded_by(module: str, graph: Mapping[str, set[str]]) -> dict[str, str]:
    """Every module `module` loads, each with the module that imports it."""
    seen: dict[str, str] = {}
    todo = [module]
    while todo:
        current = todo.pop()
        for target in graph.get(current, ()):
            if target not in seen and target != module:
                seen[target] = current
                todo.append(target)
    return seen


def violations(graph: Mapping[str, set[str]]) -> list[str]:
    found = []
    for who, forbidden, transitive in RULES:
        for module in (m for m in graph if within(m, who)):
            targets = loaded_by(module, graph) if transitive else dict.fromkeys(graph[module], module)
            for target, importer in sorted(targets.items()):
                if any(within(target, part) for part in forbidden) and not within(target, who):
                    via = "" if importer == module else f" (through {importer})"
                    found.append(f"{module} imports {target}{via}")
    for module, imported in graph.items():
        if not is_cli(module):
            found += [f"{module} imports {target}" for target in sorted(imported) if is_cli(target)]
    return found


def is_cli(module: str) -> bool:
    return within(module, "cli") or module.startswith(f"{PACKAGE}.cli_")


def test_imports_point_one_way() -> None:
    assert violations(import_graph()) == []


def test_the_graph_sees_top_level_lazy_and_relative_imports() -> None:
    graph = import_graph()
    assert f"{PACKAGE}.cleaning" in graph[f"{PACKAGE}.serving.predictor"]
    assert f"{PACKAGE}.drift.demo" in graph[f"{PACKAGE}.drift.sources"]  # imported inside a function
    relative = imports_of("from ..features import contract\nfrom . import request", f"{PACKAGE}.serving.x", False, ())
    assert relative == {f"{PACKAGE}.features", f"{PACKAGE}.serving"}


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("serving/api.py", "def f():\n    from mlops_template import train\n", "serving.api imports"),
        ("drift/x.py", "from mlops_template.serving.predictor import Predictor\n", "drift.x imports"),
        ("features.py", "from mlops_template.validate import run_gate\n", "features imports mlops_template.validate"),
        ("report/x.py", "import mlops_template.train\n", "report.x imports mlops_template.train"),
        ("split.py", "from mlops_template.cli import app\n", "split imports mlops_template.cli"),
    ],
)
def test_a_wrong_way_import_is_caught(tmp_path: Path, module: str, source: str, expected: str) -> None:
    root = tmp_path / PACKAGE
    for path in SOURCE.rglob("*.py"):  # the real package plus one planted module
        target = root / path.relative_to(SOURCE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (root / module).parent.mkdir(parents=True, exist_ok=True)
    (root / module).write_text(source, encoding="utf-8")
    found = violations(import_graph(root))
    assert any(f"{PACKAGE}.{expected}" in line for line in found), found


def test_the_service_does_not_load_the_gate_through_what_it_imports() -> None:
    """A rule on the service holds through its imports: cleaning importing the gate breaks it."""
    graph = import_graph()
    graph[f"{PACKAGE}.cleaning"] = graph[f"{PACKAGE}.cleaning"] | {f"{PACKAGE}.validate"}
    found = violations(graph)
    assert f"{PACKAGE}.serving.predictor imports {PACKAGE}.validate (through {PACKAGE}.cleaning)" in found
