"""The batch endpoints, whose bodies the service reads itself.

- /predict_batch: JSON, `{"records": [...]}` or `{"columns": {...}}` (serving/batch.py)
- /predict_file:  a CSV or Parquet export as the body (serving/batch_file.py)

They are routes of a small ASGI app that the BentoML service mounts (`bentoml.asgi_app`),
so BentoML's traffic limits, metrics, tracing and access log apply to them as to /predict.
What they skip is BentoML's API layer turning the whole body into Python objects with
pydantic before the endpoint runs: the batch types read it in one pass instead (what that
gains: benchmarks/results/serving.md). FastAPI only routes and documents them: BentoML
merges a mounted FastAPI app's OpenAPI paths into its docs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import bentoml
from fastapi import FastAPI
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mlops_template.serving.batch import columns_from_json
from mlops_template.serving.batch_file import BatchFileError, columns_from_upload, read_upload
from mlops_template.serving.request import BatchPrediction, Columns, record_model

# A row is a few hundred bytes as JSON or CSV; this bounds what one request may hold in memory.
BYTES_PER_ROW = 2048
FILE_CONTENT = {
    "text/csv": {"schema": {"type": "string", "description": "A raw export with a header row."}},
    "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
}


class Scorer(Protocol):
    """What the routes need of the service: the answer (a `BatchPrediction` as JSON) to the
    checked raw columns `read()` returns."""

    async def answer_batch(self, read: Callable[[], Columns]) -> bytes: ...


def batch_routes(max_rows: int) -> FastAPI:
    """The app the service mounts at `/`, for batches of at most `max_rows` rows."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)  # BentoML serves the docs
    documented: dict[str, Any] = {
        "response_model": BatchPrediction,
        "responses": {
            400: {"description": "The body or a value in it is invalid: `detail` names the field (and row) and why."},
            415: {"description": "Not a content type this endpoint reads."},
        },
    }
    json_body = {"application/json": {"schema": _batch_schema(max_rows)}}

    @app.post("/predict_batch", **documented, openapi_extra={"requestBody": {"required": True, "content": json_body}})
    async def predict_batch(request: Request) -> Response:
        """Score a batch sent as records or as columns; answers come back column-wise, in order."""
        return await _answer(request, max_rows, lambda body: columns_from_json(body, max_rows))

    @app.post("/predict_file", **documented, openapi_extra={"requestBody": {"required": True, "content": FILE_CONTENT}})
    async def predict_file(request: Request) -> Response:
        """Score a CSV or Parquet export sent as the request body (batch scoring); a target
        column in the file is ignored."""
        media_type = request.headers.get("content-type", "")
        return await _answer(
            request, max_rows, lambda body: columns_from_upload(read_upload(body, media_type), max_rows)
        )

    return app


async def _answer(request: Request, max_rows: int, read: Callable[[bytes], Columns]) -> Response:
    """The service's answer to the batch `read(body)` returns, or a 400 saying what is wrong."""
    chunks, size, limit = [], 0, max_rows * BYTES_PER_ROW
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BatchFileError(f"the body is larger than {limit:,} bytes ({max_rows:,} rows at most)")
            chunks.append(chunk)
        service: Scorer = bentoml.get_current_service()
        answer = await service.answer_batch(lambda: read(b"".join(chunks)))
    except BatchFileError as exc:
        return JSONResponse({"error": str(exc), "detail": exc.details}, status_code=400)
    except ValidationError as exc:
        detail = exc.errors(include_context=False, include_input=False)
        return JSONResponse({"error": f"{exc.error_count()} validation error(s)", "detail": detail}, status_code=400)
    return Response(answer, media_type="application/json")


def _batch_schema(max_rows: int) -> dict[str, Any]:
    """The JSON body as the API docs show it: the record model's fields, as records or as columns."""
    record = record_model().model_json_schema()
    shapes = {
        "records": {"type": "array", "items": record, "minItems": 1, "maxItems": max_rows},
        "columns": {
            "type": "object",
            "properties": {name: {"type": "array", "items": field} for name, field in record["properties"].items()},
            "required": record.get("required", []),
            "additionalProperties": False,
            "description": "The same rows as equally long lists, one per field; an optional one may be left out.",
        },
    }
    return {
        "oneOf": [
            {"type": "object", "properties": {key: shape}, "required": [key], "additionalProperties": False}
            for key, shape in shapes.items()
        ]
    }
