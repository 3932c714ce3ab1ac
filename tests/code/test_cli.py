"""The `mlops` command: user errors are one clear message and exit code 1, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import typer
import yaml
from typer.testing import CliRunner

from mlops_template.cli import app
from mlops_template.data.generate import write_csv
from mlops_template.features import contract
from mlops_template.prepare import prepare
from tests.contract_data import raw_frame

runner = CliRunner()


@pytest.fixture
def params_file(tmp_path: Path, repo_root: Path) -> Path:
    """params.yaml with every output path moved under tmp_path."""
    data = yaml.safe_load((repo_root / "params.yaml").read_text())
    data["paths"] = {name: str(tmp_path / "out" / value) for name, value in data["paths"].items()}
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def broken_files(tmp_path: Path, raw: pd.DataFrame) -> dict[str, tuple[Path, str]]:
    """A corpus of broken inputs and a word the message must contain."""
    corpus: dict[str, tuple[Path, str]] = {}

    def add(name: str, content: bytes, expected: str) -> None:
        path = tmp_path / f"{name}.csv"
        path.write_bytes(content)
        corpus[name] = (path, expected)

    good = tmp_path / "good.csv"
    write_csv(raw, good)
    text = good.read_text()
    header, first, *_ = text.splitlines()
    add("empty", b"", "empty")
    add("header_only", (header + "\n").encode(), "no rows")
    add("semicolons", text.replace(",", ";").encode(), "semicolon")
    spec = contract()
    first_column = spec.columns[0].name
    add("latin1", text.replace(first, first + "é", 1).encode("latin-1"), "UTF-8")
    add("truncated", (header + "\n" + first + "\n" + first[: len(first) // 2] + "\n").encode(), "fields")
    add("missing_column", text.replace(first_column, first_column + "_renamed", 1).encode(), first_column)
    for kind, value, case in (("number", "forty", "text_in_number"), ("category", "platinum-xyz", "unknown_category")):
        columns = [c.name for c in spec.columns if c.kind == kind]
        if columns:
            broken = raw.astype(object).copy()
            broken.loc[0, columns[0]] = value
            write_csv(broken, tmp_path / f"{case}.csv")
            corpus[case] = (tmp_path / f"{case}.csv", columns[0])
    return corpus


def test_validate_passes_the_sample_and_writes_both_reports(params_file: Path, raw_csv: Path) -> None:
    result = runner.invoke(app, ["validate", "--params", str(params_file), "--input", str(raw_csv)])
    assert result.exit_code == 0, result.output
    assert "✅ passed" in result.output
    report_dir = params_file.parent / "out" / "reports" / "validation"
    assert json.loads((report_dir / "raw.json").read_text())["passed"] is True
    assert (report_dir / "raw.md").exists()


def test_every_broken_file_fails_with_a_message_not_a_traceback(
    tmp_path: Path, params_file: Path, raw_sample: pd.DataFrame
) -> None:
    for name, (path, expected) in broken_files(tmp_path, raw_sample.head(300)).items():
        result = runner.invoke(app, ["validate", "--params", str(params_file), "--input", str(path)])
        assert result.exit_code == 1, (name, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), name
        assert "Traceback" not in result.output, name
        assert "error:" in result.output, name
        assert expected in result.output, (name, result.output)
        report = json.loads((params_file.parent / "out" / "reports" / "validation" / "raw.json").read_text())
        assert report["passed"] is False, name


def test_a_bad_params_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "params.yaml"
    bad.write_text("data: {}\n")
    result = runner.invoke(app, ["validate", "--params", str(bad)])
    assert result.exit_code == 1
    assert "data.input" in result.output


def test_evaluate_without_a_model_says_what_to_run(params_file: Path) -> None:
    result = runner.invoke(app, ["evaluate", "--params", str(params_file)])
    assert result.exit_code == 1
    assert "dvc repro" in result.output


def test_every_command_of_the_three_modules_is_one_mlops_command() -> None:
    group = typer.main.get_command(app)
    assert set(getattr(group, "commands", {})) == {
        *("generate-sample", "ingest", "validate", "prepare", "split", "train", "evaluate"),
        *("report", "report-check", "register"),
        *("drift", "drift-issue", "drift-retrain", "labelled-batch", "keepalive"),
        *("smoke", "deploy-ready", "kubeconfig", "deploy", "release", "rollback", "promote"),
    }


def test_a_setting_that_names_a_missing_column_is_a_clear_error(tmp_path: Path, params_file: Path) -> None:
    settings = yaml.safe_load(params_file.read_text())
    settings["split"] |= {"method": "time", "time_column": "created_at"}
    params_file.write_text(yaml.safe_dump(settings))
    prepared = Path(settings["paths"]["prepared"])
    prepared.parent.mkdir(parents=True)
    prepare(raw_frame(rows=200, seed=1), drop_duplicates=True)[0].to_parquet(prepared)
    result = runner.invoke(app, ["split", "--params", str(params_file)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "error: split.time_column in params.yaml: 'created_at'" in result.output
    assert contract().target.name in result.output  # the columns it could have named


def test_a_bug_keeps_its_traceback(params_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only errors a person can act on become one line; a ValueError from a bug is not one."""
    from mlops_template import split

    def broken(params: object) -> tuple[int, int]:
        raise ValueError("a bug, not the user's input")

    monkeypatch.setattr(split, "run", broken)
    result = runner.invoke(app, ["split", "--params", str(params_file)])
    assert isinstance(result.exception, ValueError)
    assert "error:" not in result.output
