"""A small, complete world for the drift tests: reference split, a model, metrics, params.yaml.

Built from the seeded generator in a temporary folder, so the tests need no `make run`.
The expensive parts (data, model) are cached for the whole session.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from mlops_template.data.generate import GeneratorSettings, generate_raw
from mlops_template.params import TrainParams, load_params
from mlops_template.prepare import prepare

REPO = Path(__file__).resolve().parents[2]
REFERENCE_ROWS = 20_000


@cache
def reference_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pipeline's train/test split of a 20,000-customer sample (seed 42, no drift)."""
    from mlops_template.split import split

    clean, _ = prepare(generate_raw(GeneratorSettings(rows=REFERENCE_ROWS, seed=42)), drop_duplicates=True)
    return split(clean, load_params(REPO / "params.yaml").split)


@cache
def fitted_model() -> Any:
    """A logistic regression in the project's preprocessing pipeline (seconds, not minutes)."""
    from mlops_template.train import build_model

    base = load_params(REPO / "params.yaml").train
    settings = TrainParams.model_validate(base.model_dump() | {"model": "logistic_regression"})
    train, _ = reference_split()
    target = "churned"
    features = [c for c in train.columns if c not in ("customer_id", target)]
    return build_model(settings).fit(train[features], train[target].astype(int)), features


def raw_batch(rows: int, seed: int, drift: float = 0.0) -> pd.DataFrame:
    """A raw export of new customers (ids that do not clash with the reference's)."""
    return generate_raw(GeneratorSettings(rows=rows, seed=seed, drift=drift, first_id=1_000_000 + seed * rows))


@dataclass(frozen=True)
class World:
    root: Path
    params_path: Path

    def params_with(self, **drift: Any) -> Path:
        """A params.yaml of this world with some `drift` settings changed."""
        data = yaml.safe_load(self.params_path.read_text(encoding="utf-8"))
        data["drift"] |= drift
        path = self.root / f"params-{abs(hash(json.dumps(drift, sort_keys=True, default=str)))}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    def write_csv(self, frame: pd.DataFrame, name: str) -> Path:
        path = self.root / name
        frame.to_csv(path, index=False)
        return path


def build_world(root: Path, *, with_model: bool = True) -> World:
    from sklearn.metrics import roc_auc_score

    from mlops_template.model_files import ModelCard, save_model

    train, test = reference_split()
    data = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    paths = {k: str(root / v) for k, v in data["paths"].items()}
    data["paths"] = paths
    data["drift"] |= {"sources": ["file"], "plots": 2}
    data["serve"]["inference_log"]["url"] = str(root / "logs" / "inference")
    for key in ("train", "test"):
        Path(paths[key]).parent.mkdir(parents=True, exist_ok=True)
    train.to_parquet(paths["train"], index=False)
    test.to_parquet(paths["test"], index=False)
    if with_model:
        model, features = fitted_model()
        card = ModelCard(
            model_type="logistic_regression",
            hyperparameters={},
            features=features,
            target="churned",
            data_md5="test",
            train_rows=len(train),
            train_positive_rate=float(train["churned"].mean()),
            sklearn_version="test",
        )
        save_model(Path(paths["model_dir"]), model, card)
        auc = roc_auc_score(test["churned"].astype(int), model.predict_proba(test[features])[:, 1])
        Path(paths["metrics"]).parent.mkdir(parents=True, exist_ok=True)
        Path(paths["metrics"]).write_text(json.dumps({"roc_auc": float(auc)}), encoding="utf-8")
    params_path = root / "params.yaml"
    params_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return World(root, params_path)


def shifted(frame: pd.DataFrame, column: str, sds: float, reference: pd.DataFrame) -> pd.DataFrame:
    """`frame` with `column` moved by `sds` standard deviations of the reference."""
    out = frame.copy()
    values = pd.to_numeric(out[column], errors="coerce")
    out[column] = values + sds * float(np.nanstd(reference[column].to_numpy(dtype=float, na_value=np.nan)))
    return out
