"""`mlops drift-retrain` in a clone with no DVC remote: the new batch is committed to git as an input of its own.

The command runs as the workflow runs it (`--no-push` only skips the push and the pull
request, which tests/workflows/test_drift_retrain_workflow.py covers with a remote), in a
fresh clone whose drift check reads a labelled export. What it must leave: one commit on
drift-retrain holding data/labelled/<date>.csv (in git: there is no remote), params.yaml
listing it in data.extra_inputs, the new dvc.lock; data/sample untouched, so the
embedded-sample test of the pull request's own CI still holds. One `dvc repro` (a minute).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from mlops_template.data.generate import GeneratorSettings, generate_raw, write_csv
from tests.example import example_only
from tests.repos import clone_tracked_files, commit, run

pytestmark = [pytest.mark.slow, example_only]


@pytest.fixture(scope="module")
def retrained(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> tuple[Path, str]:
    """The clone after the command, and the batch file its commit added."""
    repo = clone_tracked_files(tmp_path_factory.mktemp("retrain") / "repo", repo_root, committed_outputs=True)
    write_csv(generate_raw(GeneratorSettings(rows=2_000, seed=7, drift=1.0, first_id=500_000)), repo / "export.csv")
    params = (repo / "params.yaml").read_text(encoding="utf-8")
    params = params.replace("  sources: [inference_log, file, sample]", "  sources: [file]").replace(
        '  file: ""', "  file: export.csv"
    )
    # No earlier batch listed (on a retraining branch this repository already lists one).
    params = re.sub(r"^  extra_inputs: \[.*\]", "  extra_inputs: []", params, flags=re.M)
    (repo / "params.yaml").write_text(params, encoding="utf-8")
    commit(repo, "check drift on an export")
    run(repo, "mlops", "drift-retrain", "--no-push")
    changed = run(repo, "git", "show", "--name-only", "--format=", "HEAD").stdout.split()
    (batch,) = [name for name in changed if name.startswith("data/labelled/") and name.endswith(".csv")]
    return repo, batch


def test_the_labelled_batch_is_committed_as_its_own_input_and_the_sample_is_untouched(
    retrained: tuple[Path, str],
) -> None:
    repo, batch = retrained
    assert run(repo, "git", "branch", "--show-current").stdout.strip() == "drift-retrain"
    changed = set(run(repo, "git", "show", "--name-only", "--format=", "HEAD").stdout.split())
    assert batch in changed  # the data itself: no DVC remote, so git holds it
    assert not (repo / f"{batch}.dvc").exists()
    assert {"params.yaml", "dvc.lock"} <= changed
    assert "data/sample/customers.csv" not in changed
    listed = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))["data"]["extra_inputs"]
    assert listed == [batch]
    assert run(repo, "dvc", "status").stdout.strip() == "Data and pipelines are up to date."


def test_the_raw_data_is_the_sample_then_the_labelled_rows(retrained: tuple[Path, str]) -> None:
    repo, batch = retrained
    sample = (repo / "data/sample/customers.csv").read_bytes()
    raw = (repo / "data/raw/records.csv").read_bytes()
    rows = (repo / batch).read_bytes().split(b"\n", 1)[1]
    assert raw == sample + rows
    assert rows.count(b"\n") > 1_900  # the export's labelled rows (the generator adds 1 % duplicates)
