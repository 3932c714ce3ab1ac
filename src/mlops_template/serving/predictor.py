"""The trained model behind every way of serving it: raw rows in, the task's answers out
(a probability and a label, class probabilities and a class, or a value).

The service, the FastAPI baseline in benchmarks/ and in-process scoring all call
`Predictor.predict`, which cleans the columns with the training code's rules
(`cleaning.clean_columns`, each column through `cleaning.clean_column`) and runs the saved
scikit-learn Pipeline, so there is exactly one path from a raw record to a probability
and no train/serve skew.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import sklearn
from sklearn.pipeline import Pipeline

from mlops_template.cleaning import clean_columns
from mlops_template.model_files import load_model
from mlops_template.serving.request import Prediction


@dataclass(frozen=True)
class Predictor:
    model: Pipeline
    threshold: float
    version: str
    task: str = "binary"  # the model card's: binary | multiclass | regression
    classes: tuple[str, ...] = ()  # multi-class: the model's classes, in its probability columns' order

    @classmethod
    def from_directory(cls, directory: Path, *, threshold: float, version: str) -> Predictor:
        """A model saved by `train` (model.joblib + model_card.json), from a folder or the model store."""
        model, card = load_model(directory)
        classes = tuple(card.labels) if card.task == "multiclass" else ()
        return cls(model=model, threshold=threshold, version=version, task=card.task, classes=classes)

    def predict(self, raw: pd.DataFrame | Mapping[str, np.ndarray]) -> np.ndarray:
        """The task's scores for each raw row (a table, or equally long columns), cleaned as in
        training: the positive label's probability (binary), one probability per class
        (multi-class, a row each), or the predicted value (regression)."""
        rows = len(raw) if isinstance(raw, pd.DataFrame) else len(next(iter(raw.values()), ()))
        clean = clean_columns(raw, rows)
        # The request model already refused NaN/inf, so scikit-learn's finiteness scan is redundant.
        with sklearn.config_context(assume_finite=True):
            if self.task == "regression":
                return np.asarray(self.model.predict(clean), dtype=np.float64)
            proba = self.model.predict_proba(clean)
            return proba if self.task == "multiclass" else proba[:, 1]

    def answer(self, score: float | np.ndarray) -> Prediction:
        """One record's response, by task, and who answered."""
        if self.task == "regression":
            return Prediction(value=float(score), model_version=self.version)
        if self.task == "multiclass":
            proba = np.asarray(score, dtype=np.float64)
            return Prediction(
                label=self.classes[int(proba.argmax())],
                probabilities=dict(zip(self.classes, proba.tolist(), strict=True)),
                model_version=self.version,
            )
        return Prediction(
            probability=float(score),
            label=bool(score >= self.threshold),
            threshold=self.threshold,
            model_version=self.version,
        )

    def answer_batch_json(self, scores: np.ndarray) -> bytes:
        """A batch's response (a `BatchPrediction`), column-wise in the order of the rows, as
        JSON written by orjson from the arrays themselves: pydantic would convert and check
        every value once more (a test holds the JSON to the model)."""
        fields: dict[str, Any] = {"model_version": self.version, "rows": len(scores)}
        floats = np.asarray(scores, dtype=np.float64)
        if self.task == "regression":
            fields["value"] = np.ascontiguousarray(floats)
        elif self.task == "multiclass":
            by_class = {name: np.ascontiguousarray(floats[:, i]) for i, name in enumerate(self.classes)}
            fields |= {"label": self.labels(scores).tolist(), "probabilities": by_class}
        else:
            fields |= {
                "probability": np.ascontiguousarray(floats),
                "label": self.labels(scores),
                "threshold": self.threshold,
            }
        return orjson.dumps(fields, option=orjson.OPT_SERIALIZE_NUMPY)

    def labels(self, scores: np.ndarray) -> np.ndarray:
        """What each row is predicted to be: True for the positive label (binary), the class
        name (multi-class), the value (regression)."""
        if self.task == "regression":
            return np.asarray(scores, dtype=np.float64)
        if self.task == "multiclass":
            return np.asarray(self.classes, dtype=object)[np.asarray(scores).argmax(axis=1)]
        return scores >= self.threshold

    def logged(self, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The inference log's probability and label per row: the positive label's probability
        and the label (binary), the chosen class's probability and the class (multi-class), no
        probability and the value (regression)."""
        if self.task == "regression":
            return np.full(len(scores), np.nan), np.asarray(scores, dtype=np.float64)
        if self.task == "multiclass":
            return np.asarray(scores).max(axis=1), self.labels(scores)
        return np.asarray(scores, dtype=np.float64), self.labels(scores)
