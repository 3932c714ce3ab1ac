"""The PR report on real DVC output: commits of a temporary git repository, reproduced with dvc.

`main` is a modest gradient-boosting model on a 3,000-row sample. Three pull requests
branch from it, each reproduced and reported against `main` like the PR workflow does:
a better model (logistic regression), a worse one (a handful of stumps, which also fails
the quality gate) and bad data (an unknown category) that the data gate stops.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.example import example_only
from tests.repos import clone_tracked_files, commit, run

pytestmark = [pytest.mark.slow, example_only]

SAMPLE_ROWS = 3_000
MAIN_MODEL = {
    "learning_rate": 0.05,
    "max_iter": 60,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
}
STUMPS = {"learning_rate": 0.1, "max_iter": 3, "max_leaf_nodes": 2, "min_samples_leaf": 40, "l2_regularization": 1.0}


def edit_params(repo: Path, change: dict[str, Any]) -> None:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["train"].update(change)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


@pytest.fixture(scope="module")
def main_repo(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Path:
    """The tracked files on a small sample, reproduced and committed as `main`."""
    repo = clone_tracked_files(tmp_path_factory.mktemp("report") / "main", repo_root)
    run(repo, "mlops", "generate-sample", "--rows", str(SAMPLE_ROWS), "--output", "data/sample/customers.csv")
    edit_params(repo, {"model": "hist_gradient_boosting", "hist_gradient_boosting": MAIN_MODEL})
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["data"]["extra_inputs"] = []  # the small sample only: row counts below are the sample's
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(repo, "dvc", "repro")
    commit(repo, "main: gradient boosting on the sample")
    return repo


@dataclass(frozen=True)
class Outcome:
    repo: Path
    repro: subprocess.CompletedProcess[str]
    report: subprocess.CompletedProcess[str]
    check: subprocess.CompletedProcess[str]

    @property
    def markdown(self) -> str:
        return (self.repo / "reports/pr/report.md").read_text(encoding="utf-8")

    @property
    def summary(self) -> dict[str, Any]:
        return json.loads((self.repo / "reports/pr/summary.json").read_text(encoding="utf-8"))


def pull_request(main_repo: Path, name: str, change: Any) -> Outcome:
    """Branch from main, apply `change`, commit, reproduce and build the report, as CI does."""
    repo = main_repo.parent / name
    shutil.copytree(main_repo, repo, symlinks=True)
    run(repo, "git", "checkout", "-q", "-b", name)
    change(repo)
    commit(repo, name)
    repro = run(repo, "dvc", "repro", check=False)
    report = run(repo, "mlops", "report", "--base", "main", "--pr-number", "7", "--run-url", "https://ci/run/1")
    return Outcome(repo, repro, report, run(repo, "mlops", "report-check", check=False))


@pytest.fixture(scope="module")
def better(main_repo: Path) -> Outcome:
    return pull_request(main_repo, "better", lambda repo: edit_params(repo, {"model": "logistic_regression"}))


@pytest.fixture(scope="module")
def worse(main_repo: Path) -> Outcome:
    return pull_request(main_repo, "worse", lambda repo: edit_params(repo, {"hist_gradient_boosting": STUMPS}))


def break_the_data(repo: Path) -> None:
    sample = repo / "data/sample/customers.csv"
    sample.write_text(sample.read_text().replace(",two_year,", ",two-years-plus,"))


@pytest.fixture(scope="module")
def bad_data(main_repo: Path) -> Outcome:
    return pull_request(main_repo, "bad-data", break_the_data)


def metric_row(markdown: str, metric: str) -> list[str]:
    line = next(line for line in markdown.splitlines() if line.startswith(f"| {metric} "))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_a_better_model_passes_and_says_so_per_metric(better: Outcome) -> None:
    assert better.repro.returncode == 0, better.repro.stderr
    assert better.check.returncode == 0, better.check.stderr
    assert better.summary["passed"] is True
    md = better.markdown
    assert "✅ ready to merge" in md
    _, old, new, change, verdict = metric_row(md, "roc_auc ↑")
    assert float(new) > float(old)
    assert change.startswith("+")
    assert "▲" in change
    assert verdict == "🟢 better"
    # log loss falls as the model improves, and falling is better for a loss
    _, old_loss, new_loss, loss_change, loss_verdict = metric_row(md, "log_loss ↓")
    assert float(new_loss) < float(old_loss)
    assert "▼" in loss_change
    assert loss_verdict == "🟢 better"


def test_the_report_shows_changed_params_segments_gate_and_lineage(better: Outcome) -> None:
    md = better.markdown
    assert "| `train.model` | hist_gradient_boosting | logistic_regression |" in md
    assert "### Per-segment metrics (`region`)" in md
    assert "### Model-quality gate: ✅ passed" in md
    assert "### Data gate: ✅ passed" in md
    assert f"{SAMPLE_ROWS + SAMPLE_ROWS // 100:,} rows × 19 columns" in md  # the generator adds 1 % duplicates
    lock = yaml.safe_load((better.repo / "dvc.lock").read_text())
    raw_md5 = lock["stages"]["ingest"]["outs"][0]["md5"]
    assert raw_md5 in md
    head = run(better.repo, "git", "rev-parse", "HEAD").stdout.strip()
    assert head in md
    assert "PR #7" in md
    assert "[workflow run](https://ci/run/1)" in md


def test_the_plots_are_pngs_of_main_and_the_pr_embedded_in_the_markdown(better: Outcome) -> None:
    report_dir = better.repo / "reports/pr"
    for name in ("roc", "precision_recall", "confusion", "calibration"):
        png = report_dir / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({name}.png)" in better.markdown
    assert sorted(better.summary["images"]) == ["calibration.png", "confusion.png", "precision_recall.png", "roc.png"]


def test_a_worse_model_fails_the_check_and_the_report_says_why(worse: Outcome) -> None:
    assert worse.repro.returncode != 0  # the stumps also fail the quality gate in evaluate
    assert worse.check.returncode == 1
    assert "not ready to merge" in worse.check.stderr
    md = worse.markdown
    assert "❌ not ready" in md
    assert "the model-quality gate failed" in md
    assert "`roc_auc` is worse than on the base revision" in md
    assert metric_row(md, "roc_auc ↑")[-1] == "🔴 worse"
    assert metric_row(md, "log_loss ↓")[-1] == "🔴 worse"
    assert "### Model-quality gate: ❌ failed" in md
    assert "### Plots" in md  # a failed quality gate still has fresh metrics and plots


def test_bad_data_fails_at_the_gate_and_the_report_lists_the_failures(bad_data: Outcome) -> None:
    assert bad_data.repro.returncode != 0
    assert bad_data.check.returncode == 1
    md = bad_data.markdown
    assert "the data gate failed" in md
    assert "### Data gate: ❌ failed" in md
    row = next(line for line in md.splitlines() if line.startswith("| contract |"))
    assert "unknown category" in row
    assert "❌ failure" in row
    assert "line " in row
    assert "`two-years-plus`" in row
    assert "No model was trained on this PR: the data gate stopped the pipeline" in md
    assert "not retrained on this PR" in md
    assert "### Plots" not in md
    assert (bad_data.repo / "reports/pr/validation/raw.json").exists()


def test_a_missing_base_revision_is_a_clear_error(main_repo: Path) -> None:
    result = run(main_repo, "mlops", "report", "--base", "origin/nope", check=False)
    assert result.returncode == 1
    assert "fetch-depth: 0" in result.stderr
    assert "Traceback" not in result.stderr
