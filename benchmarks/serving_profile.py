"""Where a prediction's time goes, stage by stage, for one row and for 1,000 rows (as
records and as columns), in-process on the service's own path.

    python -m benchmarks.serving_profile

Stages, in the order a request meets them: reading and checking the body (one row: the
pydantic record model, as BentoML's API does; a batch: the batch types, serving/batch.py),
`clean_columns`, the saved Pipeline's `predict_proba` (its preprocessing and its model
separately), and the inference log (`batch_table` + `LogStore.write`: the batch as a
Parquet file in a local folder, as the service's background thread writes it, off the
request path but partly holding the GIL; the service writes one file per flush, not per
batch, so this is an upper bound). A last row times the record model reading the same
batch: what a batch costs when the batch types decline, and what they save. Medians over
repeated calls, one OpenMP thread, a trained model needed (`make run`). Writes
benchmarks/results/serving_profile.md.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from threadpoolctl import threadpool_limits

from benchmarks.results import write_results
from benchmarks.serving import ROOT, SHAPES, Shape, payloads
from mlops_template.cleaning import clean_columns
from mlops_template.logstore import LogStore, batch_table
from mlops_template.params import load_params
from mlops_template.serving.batch import decide_json, read_json
from mlops_template.serving.predictor import Predictor
from mlops_template.serving.request import Columns, record_model, records_to_columns


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
    """Milliseconds per stage for one request of this shape."""
    preprocess, model = predictor.model[:-1], predictor.model[-1]
    size = shape.rows
    read: Callable[[], Columns | None]
    if size == 1:
        record = record_model()
        read = lambda: records_to_columns([record.model_validate_json(body)])  # noqa: E731
    else:
        read = partial(read_json, body, size)
    columns = read()
    if columns is None:
        raise SystemExit("the benchmark's batch was declined by the batch types: its rows are not plain valid JSON")
    clean = clean_columns(columns, size)
    features = preprocess.transform(clean)
    probability = model.predict_proba(features)[:, 1]
    labels = probability >= predictor.threshold
    store = LogStore(str(folder / f"log-{shape.key}"))
    when = datetime.now(UTC)
    return [
        median_ms(read),
        median_ms(lambda: clean_columns(columns, size)),
        median_ms(lambda: preprocess.transform(clean)),
        median_ms(lambda: model.predict_proba(features)),
        median_ms(lambda: store.write(batch_table(columns, probability, labels, "v", when), when)),
        median_ms(partial(decide_json, body, size)) if size > 1 else float("nan"),
    ]


STAGES = [
    "reading and checking the body (1 row: the record model; a batch: the batch types)",
    "clean_columns",
    "Pipeline: preprocessing",
    "Pipeline: model",
    "inference log: a Parquet file of the batch (background thread)",
    "instead of the first, the record model reading the batch (orjson, pydantic record by record)",
]


def main() -> None:
    threadpool_limits(1)
    params = load_params(ROOT / "params.yaml")  # the sample (data.input) and the trained model (paths.model_dir)
    predictor = Predictor.from_directory(ROOT / params.paths.model_dir, threshold=0.5, version="profile")
    with tempfile.TemporaryDirectory() as tmp:
        files = payloads(Path(tmp), ROOT / params.data.input)
        rows = [profile(shape, files[shape.key].read_bytes(), predictor, Path(tmp)) for shape in SHAPES]
    lines = ["| stage | " + " | ".join(shape.label for shape in SHAPES) + " |", "|---" * (len(SHAPES) + 1) + "|"]
    for index, stage in enumerate(STAGES):
        lines.append(f"| {stage} | " + " | ".join(f"{t[index]:.2f} ms".replace("nan ms", "–") for t in rows) + " |")
    lines.append("| the request path (the first four) | " + " | ".join(f"{sum(t[:4]):.2f} ms" for t in rows) + " |")
    lines.append(
        "| the batch types' gain on reading (last row ÷ first) | "
        + " | ".join("–" if shape.rows == 1 else f"{t[5] / t[0]:.1f}×" for shape, t in zip(SHAPES, rows, strict=True))
        + " |"
    )
    body = (
        "Medians of repeated in-process calls, one thread, one OpenMP thread; other processes on the "
        "machine move these by up to a third.\n\n" + "\n".join(lines)
    )
    print(body)
    write_results("serving_profile", "Serving: where a prediction's time goes", body)


if __name__ == "__main__":
    main()
