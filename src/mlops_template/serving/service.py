"""The BentoML service: what `bentoml serve`, `make serve` and the container run.

Endpoints (all POST, JSON unless said otherwise):
- /predict        one record            -> the task's answer: probability, label, threshold (binary);
                                           label, probabilities (multi-class); value (regression)
- /predict_batch  {"records": [...]} or {"columns": {...}} -> column-wise answers, in order
- /predict_file   a CSV or Parquet body -> the same, for batch scoring of an export
- /livez /readyz /metrics               -> BentoML's probes and Prometheus metrics

Settings come from params.yaml `serve` (`MLOPS_PARAMS` names another file). They are read
when BentoML imports this module, because its decorator takes the traffic limits and the
model tag at class definition; nothing else happens at import. The model comes from the
BentoML model store (`mlops register`), with the decision threshold it was registered with.
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import bentoml
import numpy as np

from mlops_template.logstore import LogStore
from mlops_template.params import load_params
from mlops_template.serving import metrics
from mlops_template.serving.batch_routes import batch_routes
from mlops_template.serving.coalesce import Coalescer
from mlops_template.serving.columnar import Columns, join_columns
from mlops_template.serving.log_buffer import LogBuffer
from mlops_template.serving.middleware import CountRequests, JsonOnly, RequestCount
from mlops_template.serving.registry import load_registered
from mlops_template.serving.request import Prediction, record_model, records_to_columns

logger = logging.getLogger(__name__)
T = TypeVar("T")

PARAMS = load_params(Path(os.environ.get("MLOPS_PARAMS", "params.yaml")))
SETTINGS = PARAMS.serve
Record = record_model()
# The base image is a build argument (`bentoml build --arg base_image=...`, see `make bento`):
# python:3.11-slim on GitHub, a local stand-in where Docker Hub is out of reach.
BASE_IMAGE = getattr(bentoml.use_arguments(), "base_image", "python:3.11-slim")

# /predict_batch and /predict_file parse their own bodies (serving/batch_routes.py).
BATCH_ROUTES = batch_routes(SETTINGS.max_batch_rows)
IN_FLIGHT = RequestCount()  # this worker's requests being answered (a small one alone skips a thread hop)


def _alone() -> bool:
    return IN_FLIGHT.active == 1


# A batch request allocates thousands of container objects (a tuple per record, lists):
# with Python's default threshold of 700 that is a collection per request or so.
GC_THRESHOLD = (10_000, 10, 10)


def _spare_the_garbage_collector() -> None:
    """Move everything loaded so far (BentoML, pandas, scikit-learn, the model) out of the
    collector's sight and collect less often: a full collection walked all of it, and
    requests leave garbage that reference counting frees. Its gain is for the serving
    benchmark (benchmarks/serving.py) to measure, not for this docstring to quote."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


@bentoml.service(
    image=bentoml.images.Image(base_image=BASE_IMAGE, python_version="3.11", lock_python_packages=False),
    workers=SETTINGS.workers,
    traffic={"timeout": SETTINGS.timeout_seconds, "max_concurrency": SETTINGS.max_concurrency},
    envs=[{"name": "BENTOML_DO_NOT_TRACK", "value": "true"}],
)
@bentoml.asgi_app(BATCH_ROUTES, path="/")
class PredictionService:
    model_ref = bentoml.models.BentoModel(f"{SETTINGS.model_name}:latest")

    def __init__(self) -> None:
        # The model runs in the coalescer's thread, with one OpenMP thread (coalesce.py):
        # the workers already fill the cores, and scikit-learn's default (one thread per
        # core in every worker) made latency jump under load (benchmarks/serving.py).
        self.predictor = load_registered(self.model_ref)
        metrics.publish_model(Path(self.model_ref.path), self.predictor.version)
        settings = SETTINGS.inference_log
        self.log = (
            LogBuffer(
                LogStore(settings.location()),
                flush_seconds=settings.flush_seconds,
                max_buffered_rows=settings.max_buffered_rows,
                on_written=metrics.log_written,
                on_dropped=metrics.log_dropped,
            )
            if settings.enabled
            else None
        )
        self.coalescer: Coalescer[Columns, Any] = Coalescer(self._score, SETTINGS.coalesce_rows)
        logger.info("serving %s (threshold %s)", self.predictor.version, self.predictor.threshold)
        _spare_the_garbage_collector()

    def _score(self, batches: list[Columns]) -> list[Any]:
        """Runs in the model thread: one model call and one log entry for the waiting requests."""
        columns = join_columns(batches)
        probability = self.predictor.predict(columns)  # the task's scores (serving/predictor.py)
        logged_probability, labels = self.predictor.logged(probability)
        metrics.count_predictions(labels, self.predictor.version)
        if self.log is not None:
            self.log.add(columns, logged_probability, labels, self.predictor.version, datetime.now(UTC))
        return probability.tolist()

    async def in_model_thread(self, work: Callable[..., T], *args: Any) -> T:
        """`work(*args)` in the model thread: the batch routes read their bodies there (coalesce.py)."""
        return await self.coalescer.in_model_thread(work, *args)

    async def score(self, columns: Columns) -> bytes:
        """A batch's answer as JSON (a `BatchPrediction`); the batch routes call it."""
        rows = len(next(iter(columns.values())))
        probability = np.array(await self.coalescer.submit(columns, rows, alone=_alone))
        return self.predictor.answer_batch_json(probability)

    @bentoml.api
    async def predict(self, record: Record, /) -> Prediction:  # type: ignore[valid-type]
        """Score one record."""
        (probability,) = await self.coalescer.submit(records_to_columns([record]), 1, alone=_alone)
        return self.predictor.answer(probability)

    @bentoml.on_shutdown
    def close(self) -> None:
        self.coalescer.close()
        if self.log is not None:
            self.log.close()


PredictionService.add_asgi_middleware(CountRequests, count=IN_FLIGHT)  # type: ignore[attr-defined]
PredictionService.add_asgi_middleware(  # type: ignore[attr-defined]
    JsonOnly,
    paths=["/predict_batch", *(api.route for api in PredictionService.apis.values())],  # type: ignore[attr-defined]
)
