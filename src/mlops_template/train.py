"""Training: a scikit-learn Pipeline (preprocessing + model) fitted on the train split.

The task comes from the contract's target (schema.py): the model type named in params.yaml
is a classifier for a class target and the regressor of the same family for a number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sklearn
from sklearn.base import BaseEstimator
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

from mlops_template.features import Task, contract
from mlops_template.files import md5_of
from mlops_template.model_files import ModelCard, save_model
from mlops_template.params import Params, TrainParams
from mlops_template.preprocessing import build_preprocessor, feature_columns


def build_model(params: TrainParams, task: Task = "binary") -> Pipeline:
    """The model type and its hyper-parameters come from params.yaml `train`; the task picks
    classifier or regressor. `logistic_regression` on a number is its linear sibling, ridge
    regression, with the same strength of regularisation (alpha = 1 / C)."""
    hyper = params.estimator_params()
    regression = task == "regression"
    estimator: BaseEstimator
    if params.model == "hist_gradient_boosting":
        boosting = HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier
        estimator = boosting(**hyper, random_state=params.seed)
    elif params.model == "random_forest":
        forest = RandomForestRegressor if regression else RandomForestClassifier
        estimator = forest(**hyper, random_state=params.seed, n_jobs=1)
    elif regression:
        estimator = Ridge(alpha=1 / float(hyper["C"]), max_iter=hyper["max_iter"], random_state=params.seed)  # type: ignore[arg-type]
    else:
        estimator = LogisticRegression(**hyper, random_state=params.seed)
    scale = params.model == "logistic_regression"
    return Pipeline([("preprocess", build_preprocessor(scale_numbers=scale)), ("model", estimator)])


def target_values(frame: pd.DataFrame, task: Task, target: str) -> np.ndarray:
    """The target as the model learns it: 0/1 (1 = the positive label), class names, or numbers."""
    if task == "binary":
        return frame[target].astype(int).to_numpy()
    if task == "multiclass":
        return frame[target].astype(str).to_numpy()
    return frame[target].astype(float).to_numpy()


def train(train_frame: pd.DataFrame, params: TrainParams, *, data_md5: str) -> tuple[Pipeline, ModelCard]:
    spec = contract()
    target, task = spec.target.name, spec.task
    features = feature_columns()
    model = build_model(params, task)
    y = target_values(train_frame, task, target)
    model.fit(train_frame[features], y)
    labels = list(spec.target.labels) if task == "binary" else [str(c) for c in getattr(model, "classes_", [])]
    card = ModelCard(
        model_type=params.model,
        hyperparameters=params.estimator_params(),
        features=features,
        target=target,
        data_md5=data_md5,
        train_rows=len(train_frame),
        train_positive_rate=round(float(y.mean()), 6) if task == "binary" else None,
        sklearn_version=sklearn.__version__,
        task=task,
        labels=labels,
    )
    return model, card


def run(params: Params) -> ModelCard:
    """Stage `train`: fit on the train split and save the model with its card."""
    model, card = train(pd.read_parquet(params.paths.train), params.train, data_md5=md5_of(params.paths.raw))
    save_model(params.paths.model_dir, model, card)
    return card
