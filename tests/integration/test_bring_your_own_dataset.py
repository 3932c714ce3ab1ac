"""Bringing a different dataset changes two files: schema.py and params.yaml.

In a clone of the repository, the churn contract is replaced by a breast-cancer one
(tests/integration/byod/schema.py), params.yaml points at the new data, and the real
`dvc repro` must run every stage to a model that clears its quality gate.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml
from sklearn.datasets import load_breast_cancer

from tests.integration.test_dvc_pipeline import STAGES, stages_run
from tests.repos import clone_tracked_files, run

pytestmark = pytest.mark.slow

COLUMNS = {
    "mean radius": "mean_radius",
    "mean texture": "mean_texture",
    "mean perimeter": "mean_perimeter",
    "mean area": "mean_area",
    "mean smoothness": "mean_smoothness",
    "mean concavity": "mean_concavity",
    "worst area": "worst_area",
}


def write_dataset(path: Path) -> None:
    data = load_breast_cancer(as_frame=True).frame  # bundled with scikit-learn: no download
    frame = data[list(COLUMNS)].rename(columns=COLUMNS)
    frame.insert(0, "sample_id", [f"S{i:04d}" for i in range(len(frame))])
    frame["size_band"] = pd.cut(frame["mean_area"], [0, 450, 800, 10_000], labels=["Small", "MEDIUM", "large "])
    frame["malignant"] = (data["target"] == 0).map({True: "yes", False: "no"})  # target 0 = malignant
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def test_a_new_dataset_needs_only_the_schema_and_params(tmp_path: Path, repo_root: Path) -> None:
    repo = clone_tracked_files(tmp_path / "repo", repo_root)
    shutil.copy(repo_root / "tests/integration/byod/schema.py", repo / "src/mlops_template/schema.py")
    write_dataset(repo / "data/external/biopsies.csv")
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["data"]["input"] = "data/external/biopsies.csv"
    params["data"]["extra_inputs"] = []  # labelled batches of the churn data do not belong to a new dataset
    params["evaluate"]["segment_column"] = "size_band"
    params["evaluate"]["min_metrics"] = {"roc_auc": 0.95, "recall": 0.8}
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    result = run(repo, "dvc", "repro")

    assert stages_run(result.stdout) == set(STAGES)
    assert json.loads((repo / "metrics/metrics.json").read_text())["roc_auc"] >= 0.95
    assert set(json.loads((repo / "metrics/segments.json").read_text())["size_band"]) == {"small", "medium", "large"}
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    source_changes = {
        line[3:] for line in changed if line and not line[3:].startswith(("dvc.lock", "metrics/", "plots/", "reports/"))
    }
    assert source_changes == {"params.yaml", "src/mlops_template/schema.py"}
