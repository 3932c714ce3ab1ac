"""The BentoML service: what `bentoml serve`, `make serve` and the container run.

/predict (one record) is a BentoML API; /predict_batch and /predict_file are routes of an app
it mounts (batch_routes.py); /livez, /readyz and /metrics are BentoML's. Settings come from
params.yaml `serve` (`MLOPS_PARAMS` names another file), read at import: the decorator takes
the traffic limits and the model tag. Every request is checked and predicted on its worker's
event loop (a few milliseconds of CPU holding the GIL: a thread would only add a hand-over);
requests ready together share one model call (coalesce.py). Throughput comes from workers
(`serve.workers`, processes) and replicas.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import bentoml
import numpy as np
from threadpoolctl import threadpool_limits

from mlops_template.logstore import LogStore
from mlops_template.logstore.buffer import LogBuffer
from mlops_template.params import load_params
from mlops_template.serving import metrics
from mlops_template.serving.batch_routes import batch_routes
from mlops_template.serving.coalesce import Coalescer
from mlops_template.serving.middleware import JsonOnly
from mlops_template.serving.registry import load_registered
from mlops_template.serving.request import Columns, Prediction, record_model, records_to_columns

logger = logging.getLogger(__name__)

PARAMS = load_params(Path(os.environ.get("MLOPS_PARAMS", "params.yaml")))
SETTINGS = PARAMS.serve
Record = record_model()
# The base image is a build argument (`bentoml build --arg base_image=...`, see `make bento`):
# python:3.11-slim on GitHub, a local stand-in where Docker Hub is out of reach.
BASE_IMAGE = getattr(bentoml.use_arguments(), "base_image", "python:3.11-slim")


@bentoml.service(
    image=bentoml.images.Image(base_image=BASE_IMAGE, python_version="3.11", lock_python_packages=False),
    workers=SETTINGS.workers,
    traffic={"timeout": SETTINGS.timeout_seconds, "max_concurrency": SETTINGS.max_concurrency},
    envs=[{"name": "BENTOML_DO_NOT_TRACK", "value": "true"}],
)
@bentoml.asgi_app(batch_routes(SETTINGS.max_batch_rows), path="/")  # /predict_batch, /predict_file
class PredictionService:
    model_ref = bentoml.models.BentoModel(f"{SETTINGS.model_name}:latest")

    def __init__(self) -> None:
        # BentoML builds the service on the event loop's thread, where every request is
        # predicted. One OpenMP thread there: the workers already fill the cores, and
        # scikit-learn's default (a thread per core in every worker) makes them fight.
        threadpool_limits(1)
        self.predictor = load_registered(self.model_ref)
        metrics.publish_model(Path(self.model_ref.path), self.predictor.version)
        settings = SETTINGS.inference_log
        self.log = (
            LogBuffer(
                LogStore(settings.location()),
                flush_seconds=settings.flush_seconds,
                max_buffered_rows=settings.max_buffered_rows,
                on_written=metrics.LOG_WRITTEN_ROWS.inc,
                on_dropped=metrics.LOG_DROPPED_ROWS.inc,
            )
            if settings.enabled
            else None
        )
        self.coalescer = Coalescer(self._score, SETTINGS.max_batch_rows)
        logger.info("serving %s (threshold %s)", self.predictor.version, self.predictor.threshold)

    def _score(self, columns: Columns) -> np.ndarray:
        scores = self.predictor.predict(columns)  # the task's scores (serving/predictor.py)
        logged_probability, labels = self.predictor.logged(scores)
        metrics.count_predictions(labels, self.predictor.version)
        if self.log is not None:
            self.log.add(columns, logged_probability, labels, self.predictor.version, datetime.now(UTC))
        return scores

    async def answer_batch(self, columns: Columns) -> bytes:
        """A checked batch's answer as JSON (a `BatchPrediction`); the batch routes call it."""
        return self.predictor.answer_batch_json(await self.coalescer.submit(columns))

    @bentoml.api
    async def predict(self, record: Record, /) -> Prediction:  # type: ignore[valid-type]
        """Score one record."""
        (score,) = await self.coalescer.submit(records_to_columns([record]))
        return self.predictor.answer(score)

    @bentoml.on_shutdown
    def close(self) -> None:
        if self.log is not None:
            self.log.close()


PredictionService.add_asgi_middleware(  # type: ignore[attr-defined]
    JsonOnly,
    paths=["/predict_batch", *(api.route for api in PredictionService.apis.values())],  # type: ignore[attr-defined]
)
