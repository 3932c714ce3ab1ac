"""Bringing a different dataset changes two files: schema.py and params.yaml.

For each task, a clone of the repository gets a user's contract (tests/integration/byod/:
binary with labels that are not yes/no, multi-class, regression; the data is scikit-learn's
bundled datasets, no download) and params.yaml pointing at the new export. Then, as a user
would: `dvc repro` (`make run`), the drift check on a shifted batch (`make drift`), a
pull request that changes the model, reported against main (`mlops report`), and the
service on the model (`make bento-model`, `make serve`). Each must
show the task's own metrics and plots; nothing else in the clone is edited.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
import yaml

from tests.integration.byod.datasets import DATASETS, Dataset
from tests.processes import free_port, running_server
from tests.repos import clone_tracked_files, commit, run

pytestmark = [pytest.mark.slow, pytest.mark.datasets]

SERVICE = "mlops_template.serving.service:PredictionService"
STAGES = ("ingest", "validate", "prepare", "split", "train", "evaluate")
ALL_PLOTS = ("roc", "precision_recall", "confusion", "calibration", "predicted_vs_actual", "residuals")
OTHER_MODEL = {"binary": "random_forest", "multiclass": "logistic_regression", "regression": "logistic_regression"}


@dataclass(frozen=True)
class Swapped:
    dataset: Dataset
    repo: Path
    repro: subprocess.CompletedProcess[str]
    drift: subprocess.CompletedProcess[str]
    report: subprocess.CompletedProcess[str]

    def json(self, relative: str) -> Any:
        return json.loads((self.repo / relative).read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=sorted(DATASETS))
def swapped(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Swapped:
    dataset = DATASETS[request.param]
    repo = clone_tracked_files(tmp_path_factory.mktemp(f"byod-{dataset.task}") / "repo", repo_root)
    shutil.copy(dataset.schema, repo / "src/mlops_template/schema.py")
    dataset.write(repo)
    params = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))
    (repo / "params.yaml").write_text(yaml.safe_dump(dataset.edit_params(params), sort_keys=False), encoding="utf-8")
    repro = run(repo, "dvc", "repro")
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    sources = {line[3:] for line in changed if not line[3:].startswith(("dvc.lock", "metrics/", "plots/", "reports/"))}
    assert sources <= {"params.yaml", "src/mlops_template/schema.py"}  # (already swapped: `make test-swap`)
    drift = run(repo, "mlops", "drift", check=False)
    commit(repo, f"main: the {dataset.task} dataset")
    run(repo, "git", "checkout", "-q", "-b", "pr")
    params = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))
    params["train"]["model"] = OTHER_MODEL[dataset.task]
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    run(repo, "dvc", "repro")
    report = run(repo, "mlops", "report", "--base", "main", check=False)
    return Swapped(dataset, repo, repro, drift, report)


def test_every_stage_runs_and_the_model_clears_the_tasks_gate(swapped: Swapped) -> None:
    assert {stage for stage in STAGES if f"Running stage '{stage}'" in swapped.repro.stdout} == set(STAGES)
    gate = swapped.json("metrics/quality_gate.json")
    assert gate["passed"] is True
    assert set(gate["checks"]) == set(swapped.dataset.evaluate["min_metrics"]) | set(
        swapped.dataset.evaluate["max_metrics"]
    )
    card = swapped.json("models/model/model_card.json")
    assert (card["task"], card["target"]) == (swapped.dataset.task, swapped.dataset.target)


def test_the_metrics_are_the_tasks(swapped: Swapped) -> None:
    metrics = swapped.json("metrics/metrics.json")
    assert set(swapped.dataset.metrics) <= set(metrics)
    others = {"roc_auc", "rmse", "macro_f1"} - set(swapped.dataset.metrics)
    assert not others & set(metrics), f"metrics of another task: {others & set(metrics)}"


def test_the_tasks_plots_have_rows_and_the_others_are_empty_for_dvc(swapped: Swapped) -> None:
    for name in ALL_PLOTS:
        rows = swapped.json(f"plots/{name}.json")
        assert bool(rows) == (name in swapped.dataset.plots), name
    shown = run(swapped.repo, "dvc", "plots", "show", "--json")
    data = json.loads(shown.stdout)
    drawn = {Path(path).stem for path, entries in data["data"].items() if entries}
    assert drawn == set(swapped.dataset.plots)
    assert not data.get("errors")
    assert "failed" not in shown.stderr


def test_the_drift_check_runs_on_the_file_and_finds_the_shifted_column(swapped: Swapped) -> None:
    assert swapped.drift.returncode == 3, swapped.drift.stdout + swapped.drift.stderr
    drift = swapped.json("reports/drift/drift.json")
    drifted = {f["name"] for f in drift["features"] if f["verdict"] == "drift"}
    assert swapped.dataset.shifted in drifted
    expected_kind = "category" if swapped.dataset.task == "multiclass" else "score"
    assert drift["prediction"]["kind"] == expected_kind
    expected_metric = {"binary": "roc_auc", "multiclass": "macro_f1", "regression": "r2"}[swapped.dataset.task]
    assert drift["performance"]["metric"] == expected_metric
    assert "churn" not in (swapped.repo / "reports/drift/drift.md").read_text(encoding="utf-8").lower()


def test_the_pr_report_judges_the_tasks_metrics_in_their_direction(swapped: Swapped) -> None:
    assert swapped.report.returncode == 0, swapped.report.stderr
    markdown = (swapped.repo / "reports/pr/report.md").read_text(encoding="utf-8")
    lower = {"log_loss", "brier", "rmse", "mae"}
    for metric in swapped.dataset.metrics:
        assert f"| {metric} {'↓' if metric in lower else '↑'} |" in markdown
    images = {p.stem for p in (swapped.repo / "reports/pr").glob("*.png")}
    assert images == set(swapped.dataset.plots)
    summary = swapped.json("reports/pr/summary.json")
    if swapped.dataset.task == "regression":
        rmse = next(m for m in summary["metrics"] if m["name"].endswith("rmse"))
        expected = "better" if rmse["new"] < rmse["old"] else "worse"
        assert rmse["change"] == expected
    assert "churn" not in markdown.lower()


def test_the_gate_refuses_a_target_with_one_class_before_training(swapped: Swapped, tmp_path: Path) -> None:
    records = (swapped.repo / "data/external/records.csv").read_text(encoding="utf-8").splitlines()
    header, rows = records[0], records[1:]
    first = rows[0].rsplit(",", 1)[1]
    same = [row for row in rows if row.rsplit(",", 1)[1] == first]
    path = tmp_path / "one_class.csv"
    path.write_text("\n".join([header, *same]) + "\n", encoding="utf-8")
    result = run(swapped.repo, "mlops", "validate", "--input", str(path), check=False)
    assert result.returncode == 1
    message = result.stdout + result.stderr
    target = swapped.dataset.target
    if swapped.dataset.task == "regression":
        assert f"| {target} | `trainable_target` | the target is constant" in message
    else:
        assert f"| {target} | `trainable_target` | one class (only " in message


def test_the_service_answers_in_the_tasks_terms(swapped: Swapped, tmp_path: Path) -> None:
    """`make bento-model` then `make serve` in the swapped clone, as a user runs them; one
    record, a batch (records, columns) and a file of the user's own export."""
    env = os.environ | {
        "BENTOML_HOME": str(tmp_path / "bentoml"),
        "BENTOML_DO_NOT_TRACK": "true",
        "PYTHONPATH": str(swapped.repo / "src"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    subprocess.run(["mlops", "register"], cwd=swapped.repo, env=env, check=True, capture_output=True, timeout=300)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = ["bentoml", "serve", SERVICE, "--host", "127.0.0.1", "--port", str(port)]
    export = pd.read_csv(swapped.repo / "data/external/records.csv").drop(columns=[swapped.dataset.target]).head(5)
    records = [{k: v for k, v in row.items() if not pd.isna(v)} for row in export.to_dict("records")]
    with (
        running_server(command, ready_url=f"{url}/readyz", log=tmp_path / "serve.log", env=env, cwd=swapped.repo),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        one = client.post("/predict", json=records[0])
        batch = client.post("/predict_batch", json={"records": records})
        columns = client.post("/predict_batch", json={"columns": {c: export[c].tolist() for c in export.columns}})
        file = client.post("/predict_file", content=export.to_csv(index=False), headers={"content-type": "text/csv"})
    for response in (one, batch, columns, file):
        assert response.status_code == 200, response.text
    fields = {"binary": {"probability", "label", "threshold"}, "multiclass": {"label", "probabilities"}}
    expected = fields.get(swapped.dataset.task, {"value"}) | {"model_version"}
    assert set(one.json()) == expected
    assert set(batch.json()) == expected | {"rows"}
    assert batch.json() == columns.json() == file.json()
    single, rows = one.json(), batch.json()
    if swapped.dataset.task == "binary":
        assert (rows["probability"][0], rows["label"][0]) == (pytest.approx(single["probability"]), single["label"])
    elif swapped.dataset.task == "multiclass":
        assert rows["label"][0] == single["label"] in {"barolo", "grignolino", "barbera"}
        first = {name: values[0] for name, values in rows["probabilities"].items()}
        assert first == pytest.approx(single["probabilities"])
    else:
        assert rows["value"][0] == pytest.approx(single["value"])
