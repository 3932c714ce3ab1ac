"""The swap test's datasets: one per task, from the data scikit-learn ships with its wheel
(no download), written as a user's raw export, with the params.yaml changes a user makes.

Each export carries a little of what real exports do (labels in mixed case, a category sent
as a number); the current batch for the drift check is the same rows with a shifted column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

BYOD = Path(__file__).parent


@dataclass(frozen=True)
class Dataset:
    task: str
    schema: Path
    frame: Callable[[], pd.DataFrame]
    target: str
    shifted: str  # the column moved in the current batch, which the drift check must notice
    evaluate: dict[str, Any]
    train: dict[str, Any] = field(default_factory=dict)
    metrics: tuple[str, ...] = ()
    plots: tuple[str, ...] = ()

    def write(self, repo: Path) -> None:
        """The export as data/external/records.csv and a drifted current batch as current.csv."""
        frame = self.frame()
        folder = repo / "data/external"
        folder.mkdir(parents=True, exist_ok=True)
        frame.to_csv(folder / "records.csv", index=False)
        current = frame.copy()
        current[self.shifted] = current[self.shifted] * 1.5
        current.to_csv(folder / "current.csv", index=False)

    def edit_params(self, params: dict[str, Any]) -> dict[str, Any]:
        params["data"]["input"] = "data/external/records.csv"
        params["data"]["extra_inputs"] = []  # labelled batches of the example's data do not belong here
        params["split"]["method"] = "stratified"
        params["evaluate"].update(self.evaluate)
        for name, value in self.train.items():
            params["train"][name] = params["train"][name] | value if isinstance(value, dict) else value
        params["drift"]["sources"] = ["file"]
        params["drift"]["file"] = "data/external/current.csv"
        params["drift"]["min_rows"] = 100
        params["drift"]["min_values"] = 50
        params["drift"]["weights"] = {}
        return params


def _biopsies() -> pd.DataFrame:
    data = load_breast_cancer(as_frame=True).frame
    columns = ["mean radius", "mean texture", "mean perimeter", "mean area", "mean smoothness", "mean concavity"]
    frame = data[[*columns, "worst area"]].rename(columns=lambda c: c.replace(" ", "_"))
    frame.insert(0, "sample_id", [f"S{i:04d}" for i in range(len(frame))])
    frame["size_band"] = pd.cut(frame["mean_area"], [0, 450, 800, 10_000], labels=["Small", "MEDIUM", "large "])
    spelled = np.where(np.arange(len(frame)) % 3 == 0, "Malignant", "malignant")
    frame["diagnosis"] = np.where(data["target"] == 0, spelled, "BENIGN")  # scikit-learn's 0 is malignant
    return frame


def _wines() -> pd.DataFrame:
    data = load_wine(as_frame=True).frame
    frame = data.drop(columns=["target"]).rename(columns={"od280/od315_of_diluted_wines": "od280_od315"})
    frame.insert(0, "wine_id", [f"W{i:03d}" for i in range(len(frame))])
    frame["cultivar"] = np.array(["Barolo", "grignolino", "BARBERA"])[data["target"].to_numpy()]
    return frame


def _patients() -> pd.DataFrame:
    data = load_diabetes(as_frame=True, scaled=False).frame
    frame = data.drop(columns=["target"])
    frame["sex"] = frame["sex"].astype(int)  # a category whose values are numbers
    frame.insert(0, "patient_id", [f"P{i:03d}" for i in range(len(frame))])
    frame["progression"] = data["target"]
    return frame


SMALL_TREES = {"hist_gradient_boosting": {"min_samples_leaf": 10}}

DATASETS = {
    "binary": Dataset(
        task="binary",
        schema=BYOD / "binary_schema.py",
        frame=_biopsies,
        target="diagnosis",
        shifted="mean_texture",
        evaluate={"segment_column": "size_band", "min_metrics": {"roc_auc": 0.9, "recall": 0.8}, "max_metrics": {}},
        metrics=("roc_auc", "pr_auc", "recall", "precision", "f1", "log_loss", "brier"),
        plots=("roc", "precision_recall", "confusion", "calibration"),
    ),
    "multiclass": Dataset(
        task="multiclass",
        schema=BYOD / "multiclass_schema.py",
        frame=_wines,
        target="cultivar",
        shifted="proline",
        evaluate={"segment_column": None, "min_metrics": {"accuracy": 0.8, "macro_f1": 0.8}, "max_metrics": {}},
        train=SMALL_TREES,
        metrics=("accuracy", "balanced_accuracy", "macro_f1", "log_loss"),
        plots=("confusion",),
    ),
    "regression": Dataset(
        task="regression",
        schema=BYOD / "regression_schema.py",
        frame=_patients,
        target="progression",
        shifted="bmi",
        evaluate={"segment_column": "sex", "min_metrics": {"r2": 0.2}, "max_metrics": {"rmse": 75}},
        train=SMALL_TREES,
        metrics=("rmse", "mae", "r2"),
        plots=("predicted_vs_actual", "residuals"),
    ),
}
