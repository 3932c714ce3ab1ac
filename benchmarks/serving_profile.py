"""Where a prediction's time goes, stage by stage, for one row and for 1,000 rows (as
records and as columns).

    python -m benchmarks.serving_profile

Stages, in the order a request meets them: JSON parsing (for one row BentoML's, with the
pydantic request model; for a batch msgspec, as the batch routes do), the checked raw
columns (for a batch, serving/batch_json.py), `clean_columns`, the saved Pipeline's
`predict_proba` (its preprocessing and its model separately), and the inference log
(`batch_table` + `LogStore.write`: the batch as a Parquet file in a local folder, as the
service's background thread writes it, off the request path but partly holding the GIL;
the service writes one file per flush, not per batch, so this is an upper bound). A last row times the
general reader a batch takes when the fast one declines (a number sent as text, an
invalid value). Medians over repeated calls, one OpenMP thread, a trained model needed
(`make run`).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from threadpoolctl import threadpool_limits

from benchmarks.serving import ROOT, SHAPES, Shape, payloads
from mlops_template.cleaning import clean_columns
from mlops_template.logstore import LogStore, batch_table
from mlops_template.serving.batch_json import checked_body, read_batch, vouched_batch
from mlops_template.serving.columnar import Columns
from mlops_template.serving.predictor import Predictor
from mlops_template.serving.request import record_model, records_to_columns


def median_ms(call: Callable[[], object], budget_s: float = 2.0) -> float:
    call()
    times: list[float] = []
    deadline = time.perf_counter() + budget_s
    while time.perf_counter() < deadline or len(times) < 5:
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def profile(shape: Shape, body: bytes, predictor: Predictor, folder: Path) -> list[float]:
    """Milliseconds per stage for one request of this shape, on the service's own path:
    a single record through the pydantic request model (BentoML's API), a batch read by
    msgspec into the contract's JSON types and finished column-wise (serving/batch_json.py);
    last, the general reader a batch takes when that declines (orjson, serving/columnar.py)."""
    preprocess, model = predictor.model[:-1], predictor.model[-1]
    size = shape.rows
    to_columns: Callable[[Any], Columns]
    parse: Callable[[], Any]
    if size == 1:
        adapter: TypeAdapter[Any] = TypeAdapter(record_model())
        parse = partial(adapter.validate_json, body)
        to_columns = lambda record: records_to_columns([record])  # noqa: E731
    else:
        parse = partial(read_batch, body)
        to_columns = partial(_vouched, max_rows=size)
    parsed = parse()
    columns = to_columns(parsed)
    clean = clean_columns(columns, size)
    features = preprocess.transform(clean)
    probability = model.predict_proba(features)[:, 1]
    labels = probability >= predictor.threshold
    store = LogStore(str(folder / f"log-{size}"))
    when = datetime.now(UTC)
    return [
        median_ms(parse),
        median_ms(lambda: to_columns(parsed)),
        median_ms(lambda: clean_columns(columns, size)),
        median_ms(lambda: preprocess.transform(clean)),
        median_ms(lambda: model.predict_proba(features)),
        median_ms(lambda: store.write(batch_table(columns, probability, labels, "v", when), when)),
        median_ms(partial(checked_body, body, size)) if size > 1 else float("nan"),
    ]


def _vouched(batch: Any, max_rows: int) -> Columns:
    columns = vouched_batch(batch, max_rows)
    if columns is None:
        raise SystemExit("the benchmark's batch did not take the fast path: its rows are not plain valid JSON")
    return columns


STAGES = [
    "JSON parsing (1 row: pydantic request model; batch: msgspec, the contract's JSON types)",
    "records or columns → checked raw columns",
    "clean_columns",
    "Pipeline: preprocessing",
    "Pipeline: model",
    "log: a Parquet file of the batch (background thread)",
    "instead of the first two, the general reader (orjson, column checks): a batch the first declines",
]


def main() -> None:
    threadpool_limits(1)
    predictor = Predictor.from_directory(ROOT / "models/model", threshold=0.5, version="profile")
    with tempfile.TemporaryDirectory() as tmp:
        files = payloads(Path(tmp), ROOT / "data/sample/customers.csv")
        rows = [profile(shape, files[shape.key].read_bytes(), predictor, Path(tmp)) for shape in SHAPES]
    print("| stage | " + " | ".join(shape.label for shape in SHAPES) + " |")
    print("|---" * (len(SHAPES) + 1) + "|")
    for index, stage in enumerate(STAGES):
        print(f"| {stage} | " + " | ".join(f"{times[index]:.2f} ms".replace("nan ms", "–") for times in rows) + " |")
    print("| request path (the first five) | " + " | ".join(f"{sum(times[:5]):.1f} ms" for times in rows) + " |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
