"""Expectations on the embedded sample: it is what the generator makes, and it passes the gate."""

from __future__ import annotations

from pathlib import Path

from mlops_template.data.generate import GeneratorSettings, generate_raw, write_csv
from mlops_template.data.read import load_table
from mlops_template.params import Params
from mlops_template.schema import RawRecords
from mlops_template.validate import run_gate
from tests.example import example_only

pytestmark = example_only


def test_the_embedded_sample_is_exactly_what_the_seeded_generator_writes(
    params: Params, repo_root: Path, tmp_path: Path
) -> None:
    sample = params.data.sample
    settings = GeneratorSettings(rows=sample.rows, seed=sample.seed, defect_rate=sample.defect_rate, drift=sample.drift)
    regenerated = tmp_path / "customers.csv"
    write_csv(generate_raw(settings), regenerated)
    committed = repo_root / params.data.input
    assert regenerated.read_bytes() == committed.read_bytes(), "run `make sample` and commit data/sample"


def test_the_embedded_sample_passes_the_gate_with_room_to_spare(params: Params, repo_root: Path) -> None:
    path = repo_root / params.data.input
    schema = RawRecords.to_schema()
    tolerance = params.validate_.max_out_of_range_fraction
    report = run_gate(load_table(path, schema), schema, dataset="raw", source=str(path), tolerance=tolerance)
    assert report.passed, report.to_markdown()
    assert report.rows == params.data.sample.rows * 1.01  # the generator adds 1 % duplicate rows
    assert max(f.share for f in report.repairable) < tolerance / 2
