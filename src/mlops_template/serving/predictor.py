"""The trained model behind every way of serving it: raw rows in, probabilities out.

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

import numpy as np
import orjson
import pandas as pd
import sklearn
from sklearn.pipeline import Pipeline

from mlops_template.cleaning import clean_columns
from mlops_template.model_files import load_model
from mlops_template.serving.request import BatchPrediction, Prediction


@dataclass(frozen=True)
class Predictor:
    model: Pipeline
    threshold: float
    version: str

    @classmethod
    def from_directory(cls, directory: Path, *, threshold: float, version: str) -> Predictor:
        """A model saved by `train` (model.joblib + model_card.json), from a folder or the model store."""
        model, _ = load_model(directory)
        return cls(model=model, threshold=threshold, version=version)

    def predict(self, raw: pd.DataFrame | Mapping[str, np.ndarray]) -> np.ndarray:
        """Probability of the positive class for each raw row (a table, or equally long
        columns), cleaned as in training."""
        rows = len(raw) if isinstance(raw, pd.DataFrame) else len(next(iter(raw.values()), ()))
        clean = clean_columns(raw, rows)
        # The request model already refused NaN/inf, so scikit-learn's finiteness scan is redundant.
        with sklearn.config_context(assume_finite=True):
            return self.model.predict_proba(clean)[:, 1]

    def answer(self, probability: float) -> Prediction:
        """One record's response: probability, label at the threshold, and who answered."""
        return Prediction(
            probability=float(probability),
            label=bool(probability >= self.threshold),
            threshold=self.threshold,
            model_version=self.version,
        )

    def answer_batch(self, probability: np.ndarray) -> BatchPrediction:
        """A batch's response, column-wise, in the order of the rows."""
        return BatchPrediction(
            probability=probability.tolist(),
            label=self.labels(probability).tolist(),
            threshold=self.threshold,
            model_version=self.version,
            rows=len(probability),
        )

    def answer_batch_json(self, probability: np.ndarray) -> bytes:
        """`answer_batch(probability)` as JSON, written by orjson from the arrays themselves:
        the same document (a test holds the two together) in a quarter of the time pydantic
        takes to check and write 1,000 answers (0.06 against 0.26 ms)."""
        answer = {
            "probability": np.ascontiguousarray(probability, dtype=np.float64),
            "label": self.labels(probability),
            "threshold": self.threshold,
            "model_version": self.version,
            "rows": len(probability),
        }
        return orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY)

    def labels(self, probability: np.ndarray) -> np.ndarray:
        return probability >= self.threshold
