"""Designs the service did not choose, kept so that `serving.py --designs` re-measures them.

- `PredictionService` with `DESIGN` set: the service itself with one piece taken out,
  patched in before BentoML builds it (in every worker, since each imports this module):
  `pydantic-reader` reads batches with the record model only (orjson, then pydantic record
  by record), `no-coalescing` predicts every request on its own.
- `PlainSync`: what the BentoML docs show first: sync `@bentoml.api` methods, run in
  BentoML's thread pool, a batch parsed by BentoML into the record model.
- `AdaptiveBatching`: BentoML's own batching (`batchable=True`): its dispatcher merges
  concurrent requests' record lists under a latency budget. A batchable endpoint takes a
  list, so a single row is sent as a one-record batch (the service's /predict takes one
  record, and BentoML batches only calls that come over HTTP to a batchable endpoint).

All use the same record model, Predictor and settings (params.yaml `serve`) as the service.
"""

from __future__ import annotations

import os
from pathlib import Path

import bentoml
import numpy as np
from threadpoolctl import threadpool_limits

from mlops_template.params import load_params
from mlops_template.serving import batch, coalesce, service
from mlops_template.serving.predictor import Predictor
from mlops_template.serving.registry import load_registered
from mlops_template.serving.request import BatchPrediction, Columns, Prediction, record_model, records_to_columns

SETTINGS = load_params(Path(os.environ.get("MLOPS_PARAMS", "params.yaml"))).serve
Record = record_model()
TRAFFIC = {"timeout": SETTINGS.timeout_seconds, "max_concurrency": SETTINGS.max_concurrency}

DESIGN = os.environ.get("DESIGN", "")
if DESIGN == "pydantic-reader":
    batch.read_json = lambda body, max_rows: None
    batch.read_lists = lambda sent, max_rows: None
elif DESIGN == "no-coalescing":

    async def _alone(self: coalesce.Coalescer, columns: Columns) -> np.ndarray:
        return self.predict(columns)

    coalesce.Coalescer.submit = _alone  # type: ignore[method-assign]
elif DESIGN:
    raise ValueError(f"unknown DESIGN {DESIGN!r}: pydantic-reader or no-coalescing")
PredictionService = service.PredictionService


def _predictor(stored: object) -> Predictor:
    threadpool_limits(1)
    return load_registered(stored)


@bentoml.service(workers=SETTINGS.workers, traffic=TRAFFIC)
class PlainSync:
    model_ref = bentoml.models.BentoModel(f"{SETTINGS.model_name}:latest")

    def __init__(self) -> None:
        self.predictor = _predictor(self.model_ref)

    @bentoml.api
    def predict(self, record: Record, /) -> Prediction:  # type: ignore[valid-type]
        (probability,) = self.predictor.predict(records_to_columns([record]))
        return self.predictor.answer(probability)

    @bentoml.api
    def predict_batch(self, records: list[Record]) -> BatchPrediction:  # type: ignore[valid-type]
        scores = self.predictor.predict(records_to_columns(records))
        return BatchPrediction.model_validate_json(self.predictor.answer_batch_json(scores))


@bentoml.service(workers=SETTINGS.workers, traffic=TRAFFIC)
class AdaptiveBatching:
    model_ref = bentoml.models.BentoModel(f"{SETTINGS.model_name}:latest")

    def __init__(self) -> None:
        self.predictor = _predictor(self.model_ref)

    @bentoml.api(batchable=True, max_batch_size=SETTINGS.max_batch_rows, max_latency_ms=1000)
    def predict_batch(self, records: list[Record]) -> list[float]:  # type: ignore[valid-type]
        return self.predictor.predict(records_to_columns(records)).tolist()
