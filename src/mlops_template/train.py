"""Training: a scikit-learn Pipeline (preprocessing + model) fitted on the train split."""

from __future__ import annotations

import pandas as pd
import sklearn
from sklearn.base import ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from mlops_template.features import contract
from mlops_template.files import md5_of
from mlops_template.model_files import ModelCard, save_model
from mlops_template.params import Params, TrainParams
from mlops_template.preprocessing import build_preprocessor, feature_columns


def build_model(params: TrainParams) -> Pipeline:
    """The model type and its hyper-parameters come from params.yaml `train`."""
    hyper = params.estimator_params()
    estimator: ClassifierMixin
    if params.model == "hist_gradient_boosting":
        estimator = HistGradientBoostingClassifier(**hyper, random_state=params.seed)
    elif params.model == "random_forest":
        estimator = RandomForestClassifier(**hyper, random_state=params.seed, n_jobs=1)
    else:
        estimator = LogisticRegression(**hyper, random_state=params.seed)
    scale = params.model == "logistic_regression"
    return Pipeline([("preprocess", build_preprocessor(scale_numbers=scale)), ("model", estimator)])


def train(train_frame: pd.DataFrame, params: TrainParams, *, data_md5: str) -> tuple[Pipeline, ModelCard]:
    target = contract().target.name
    features = feature_columns()
    model = build_model(params)
    model.fit(train_frame[features], train_frame[target].astype(int))
    card = ModelCard(
        model_type=params.model,
        hyperparameters=params.estimator_params(),
        features=features,
        target=target,
        data_md5=data_md5,
        train_rows=len(train_frame),
        train_positive_rate=round(float(train_frame[target].mean()), 6),
        sklearn_version=sklearn.__version__,
    )
    return model, card


def run(params: Params) -> ModelCard:
    """Stage `train`: fit on the train split and save the model with its card."""
    model, card = train(pd.read_parquet(params.paths.train), params.train, data_md5=md5_of(params.paths.raw))
    save_model(params.paths.model_dir, model, card)
    return card
