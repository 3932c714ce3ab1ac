"""The batch endpoints, whose bodies the service reads itself.

- /predict_batch: JSON, `{"records": [...]}` or `{"columns": {...}}` (serving/batch.py)
- /predict_file:  a CSV or Parquet export as the body, read by the data gate's reader
  (`data.read.read_raw_table`, so a broken file gets the message the pipeline gives) and
  checked as columns are; its errors name the row, the CSV line and the field. A target
  column, which labelled exports carry, is ignored.

They are routes of a FastAPI app the service mounts (`bentoml.asgi_app`; BentoML merges its
OpenAPI paths into its docs), so BentoML's traffic limits, metrics, tracing and access log
apply to them. They skip BentoML's API layer, which turns the whole body into pydantic
objects first (what that gains: benchmarks/results/serving.md, design "BentoML sync API").
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bentoml
import pandas as pd
from fastapi import FastAPI
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mlops_template.data.read import CSV_SUFFIXES, PARQUET_SUFFIXES, DataFileError, read_raw_table
from mlops_template.features import contract
from mlops_template.serving.batch import columns_from_json, columns_from_lists
from mlops_template.serving.request import BatchPrediction, Columns, record_model

BYTES_PER_ROW = 2048  # a row is a few hundred bytes as JSON or CSV: this bounds a request's memory
MAX_LISTED_ERRORS = 50
FILE_TYPES = {
    "text/csv": CSV_SUFFIXES[0],
    "application/csv": CSV_SUFFIXES[0],
    "application/vnd.apache.parquet": PARQUET_SUFFIXES[0],
    "application/x-parquet": PARQUET_SUFFIXES[0],
}


class BatchFileError(ValueError):
    """The body is not a batch the service can read; the message says why (for a 400)."""

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.details = details or []


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
    file_body = {
        "text/csv": {"schema": {"type": "string", "description": "A raw export with a header row."}},
        "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
    }

    @app.post("/predict_batch", **documented, openapi_extra={"requestBody": {"required": True, "content": json_body}})
    async def predict_batch(request: Request) -> Response:
        """Score a batch sent as records or as columns; answers come back column-wise, in order."""
        return await _answer(request, max_rows, lambda body: columns_from_json(body, max_rows))

    @app.post("/predict_file", **documented, openapi_extra={"requestBody": {"required": True, "content": file_body}})
    async def predict_file(request: Request) -> Response:
        """Score a CSV or Parquet export sent as the request body (batch scoring); a target
        column in the file is ignored."""
        media_type = request.headers.get("content-type", "")
        return await _answer(request, max_rows, lambda body: columns_from_file(body, media_type, max_rows))

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
        service = bentoml.get_current_service()  # a PredictionService (service.py)
        answer = await service.answer_batch(read(b"".join(chunks)))
    except BatchFileError as exc:
        return JSONResponse({"error": str(exc), "detail": exc.details}, status_code=400)
    except ValidationError as exc:
        detail = exc.errors(include_context=False, include_input=False)
        return JSONResponse({"error": f"{exc.error_count()} validation error(s)", "detail": detail}, status_code=400)
    return Response(answer, media_type="application/json")


def columns_from_file(body: bytes, media_type: str, max_rows: int) -> Columns:
    """An uploaded file's rows, checked; its errors listed with their row, CSV line and field."""
    frame = read_upload(body, media_type).drop(columns=[contract().target.name], errors="ignore")
    if len(frame) == 0:
        raise BatchFileError("the file has a header but no rows")
    objects = frame.astype(object).where(frame.notna(), None)  # NaN is not a missing number to pydantic
    try:
        return columns_from_lists({str(name): objects[name].tolist() for name in objects.columns}, max_rows)
    except ValidationError as exc:
        details = []
        for error in exc.errors(include_url=False, include_context=False)[:MAX_LISTED_ERRORS]:
            _, field, row = (*error["loc"], None, None)[:3]  # ("columns", field, row) or ("columns", field)
            line = row + 2 if isinstance(row, int) else None  # CSV: the header is line 1
            value = None if row is None else str(error.get("input"))[:100]
            details.append({"row": row, "line": line, "field": field, "message": error["msg"], "value": value})
        message = f"{exc.error_count()} error(s) in the uploaded file (the first {len(details)} listed)"
        raise BatchFileError(message, details) from exc


def read_upload(body: bytes, media_type: str) -> pd.DataFrame:
    """The uploaded table, every CSV value as text (as the gate reads a raw export)."""
    if not body:
        raise BatchFileError("the request body is empty: send the CSV or Parquet file as the body")
    media = media_type.split(";", maxsplit=1)[0].strip().lower()
    if media in FILE_TYPES:
        suffix = FILE_TYPES[media]
    elif body.startswith(b"PAR1"):  # Parquet's magic bytes
        suffix = PARQUET_SUFFIXES[0]
    elif media in ("", "application/octet-stream", "text/plain"):
        suffix = CSV_SUFFIXES[0]
    else:
        raise BatchFileError(f"unsupported content type {media!r}: send a CSV (text/csv) or Parquet file")
    with tempfile.TemporaryDirectory(prefix="upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(body)
        try:
            return read_raw_table(path)
        except DataFileError as exc:
            raise BatchFileError(str(exc).replace(str(path), "the uploaded file")) from exc


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
