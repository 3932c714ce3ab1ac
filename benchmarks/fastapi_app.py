"""The baseline for benchmarks/serving.py: a minimal FastAPI app on the same model.

What a team would write without BentoML: the same request model, the same Predictor
(clean_features + the saved Pipeline), one sync endpoint per shape, uvicorn. No
coalescing, no inference log, no metrics. A batch of records is held to the request
model record by record; a batch of columns, for which pydantic has no per-row model,
goes through the template's own batch reader (serving/batch.py). Started by serving.py:
`MLOPS_MODEL_DIR=models/model uvicorn benchmarks.fastapi_app:app`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI
from pydantic import BaseModel, Field
from threadpoolctl import threadpool_limits

from mlops_template.params import load_params
from mlops_template.serving.batch import columns_from_lists
from mlops_template.serving.predictor import Predictor
from mlops_template.serving.request import BatchPrediction, Prediction, record_model, records_to_columns

threadpool_limits(1)  # one OpenMP thread per process, as in the service
_params = load_params()
predictor = Predictor.from_directory(
    Path(os.environ.get("MLOPS_MODEL_DIR", str(_params.paths.model_dir))),
    threshold=_params.evaluate.decision_threshold,
    version="baseline",
)
Record = record_model()
app = FastAPI()


class Batch(BaseModel):
    records: Annotated[list[Record], Field(min_length=1, max_length=_params.serve.max_batch_rows)] | None = None  # type: ignore[valid-type]
    columns: dict[str, list[Any]] | None = None


@app.post("/predict")
def predict(record: Record) -> Prediction:  # type: ignore[valid-type]
    (probability,) = predictor.predict(records_to_columns([record]))
    return predictor.answer(probability)


@app.post("/predict_batch")
def predict_batch(batch: Batch) -> BatchPrediction:
    if batch.columns is not None:
        raw = columns_from_lists(batch.columns, _params.serve.max_batch_rows)
    else:
        raw = records_to_columns(batch.records or [])
    return BatchPrediction.model_validate_json(predictor.answer_batch_json(predictor.predict(raw)))
