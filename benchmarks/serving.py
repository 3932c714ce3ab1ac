"""Serving throughput, side by side in one run: the BentoML service, a minimal FastAPI app
on the same model, and the model called in-process.

    python -m benchmarks.serving                 # the README table (about 5 minutes)
    python -m benchmarks.serving --designs       # also the design variants (sync, batching, workers, log)

Each HTTP figure is `hey` (Debian package `hey`) sending the same request for
`--seconds` at concurrency 1, 8 and 32, to servers this script starts on 127.0.0.1 and
stops again. Bodies: one record, 1,000 records, and the same 1,000 rows as columns
(`{"columns": {...}}`, the batch endpoint's other shape). For each load the targets run back to back,
so that whatever else the machine is doing weighs on all of them alike.
Needs a trained model (`make run`); the model is registered into a throw-away BentoML home.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from tests.processes import free_port, running_server

ROOT = Path(__file__).resolve().parents[1]
SERVICE = "mlops_template.serving.service:PredictionService"
CONCURRENCY = (1, 8, 32)
SIZES = (1, 1000)


@dataclass(frozen=True)
class Shape:
    """A kind of request body: the key of its payload file, its table label, its rows."""

    key: str
    label: str
    rows: int


SHAPES = (
    Shape("1", "1 row", 1),
    Shape("1000", "1,000 rows", 1000),
    Shape("1000-columns", "1,000 rows as columns", 1000),
)


@dataclass(frozen=True)
class Target:
    name: str
    command: list[str]
    env: dict[str, str]
    single: str  # path of the single-row endpoint
    batch: str
    single_as_batch: bool = False  # the single row goes as a one-record batch
    columns: bool = True  # takes a batch as columns too

    def serves(self, shape: Shape) -> bool:
        return self.columns or not shape.key.endswith("columns")

    def path_and_body(self, shape: Shape) -> tuple[str, str]:
        if shape.rows == 1:
            return (self.batch, "1-as-batch") if self.single_as_batch else (self.single, shape.key)
        return self.batch, shape.key

    @property
    def ready(self) -> str:
        return "/docs" if self.name.startswith("FastAPI") else "/readyz"


@dataclass(frozen=True)
class Load:
    rps: float
    ok: int
    errors: int
    detail: str


@contextmanager
def running(target: Target, port: int, ready_path: str) -> Iterator[str]:
    """Start the target's server on 127.0.0.1:port and stop its whole process group after."""
    base = f"http://127.0.0.1:{port}"
    command = [part.replace("{port}", str(port)) for part in target.command]
    log = Path(tempfile.mkdtemp(prefix="bench-")) / f"{target.name.replace(' ', '_')}.log"
    with running_server(command, ready_url=base + ready_path, log=log, env={**os.environ, **target.env}, cwd=ROOT):
        yield base


def hey(url: str, body: Path, concurrency: int, seconds: float) -> Load:
    out = subprocess.run(
        [
            "hey",
            "-z",
            f"{seconds}s",
            "-c",
            str(concurrency),
            "-t",
            "60",
            "-m",
            "POST",
            "-T",
            "application/json",
            "-D",
            str(body),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps_match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    codes = {int(code): int(n) for code, n in re.findall(r"\[(\d{3})\]\s+(\d+) responses", out)}
    errors_section = out.split("Error distribution:", 1)[1] if "Error distribution:" in out else ""
    transport_errors = sum(int(n) for n in re.findall(r"\[(\d+)\]\s", errors_section))
    ok = codes.get(200, 0)
    bad = sum(n for code, n in codes.items() if code != 200) + transport_errors
    detail = ", ".join(f"{code}: {n}" for code, n in sorted(codes.items()) if code != 200)
    if transport_errors:
        detail += f" transport errors: {transport_errors} ({errors_section.strip()[:200]})"
    return Load(float(rps_match.group(1)) if rps_match else 0.0, ok, bad, detail)


def payloads(folder: Path, sample: Path) -> dict[str, Path]:
    """A single record and a 1,000-record batch from the embedded sample, as a client would send them."""
    from pydantic import ValidationError

    from mlops_template.features import contract
    from mlops_template.serving.request import record_model

    raw = pd.read_csv(sample, dtype=str, keep_default_na=False, na_values=[""])
    raw = raw.drop(columns=[contract().target.name])
    record = record_model()
    numbers = {c.name for c in contract().columns if c.kind == "number"}
    records = []
    for row in raw.to_dict("records"):
        values = {k: v for k, v in row.items() if isinstance(v, str)}
        try:
            valid = record.model_validate(values)
        except ValidationError:
            continue  # the sample carries deliberate defects; clients send valid records
        # Numbers as JSON numbers; every other value as the export spells it ("YES", "North").
        records.append({k: getattr(valid, k) if k in numbers else v for k, v in values.items()})
        if len(records) == max(SIZES):
            break
    bodies: dict[str, Any] = {"1": records[0], "1-as-batch": {"records": records[:1]}}
    bodies |= {str(size): {"records": records[:size]} for size in SIZES if size > 1}
    names = dict.fromkeys(name for record in records for name in record)
    bodies |= {
        f"{size}-columns": {"columns": {name: [r.get(name) for r in records[:size]] for name in names}}
        for size in SIZES
        if size > 1
    }
    files = {}
    for name, body in bodies.items():
        files[name] = folder / f"payload-{name}.json"
        files[name].write_text(json.dumps(body), encoding="utf-8")
    return files


def in_process(files: dict[str, Path], model_dir: Path, seconds: float) -> dict[str, float]:
    """Calls per second of the service's own path without HTTP, one thread: JSON parsing,
    the request checks (the pydantic model for a record, serving/batch_json.py for a batch)
    and Predictor.predict; by shape key."""
    from threadpoolctl import threadpool_limits

    from mlops_template.serving.batch_json import columns_from_json
    from mlops_template.serving.columnar import Columns
    from mlops_template.serving.predictor import Predictor
    from mlops_template.serving.request import record_model, records_to_columns

    threadpool_limits(1)
    predictor = Predictor.from_directory(model_dir, threshold=0.5, version="in-process")
    record = record_model()
    batch = partial(columns_from_json, max_rows=1000)
    paths: dict[str, Callable[[bytes], Columns]] = {
        "1": lambda body: records_to_columns([record.model_validate_json(body)]),
        "1000": batch,  # records or columns: the batch routes' one reader
        "1000-columns": batch,
    }
    rates = {}
    for shape in SHAPES:
        body, checked = files[shape.key].read_bytes(), paths[shape.key]
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            predictor.predict(checked(body))
            calls += 1
        rates[shape.key] = calls / (time.perf_counter() - start)
    return rates


def write_params(folder: Path, name: str, overrides: dict[str, Any]) -> Path:
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["serve"].update(overrides)
    params["serve"]["inference_log"]["url"] = str(folder / f"log-{name}")
    path = folder / f"params-{name}.yaml"
    path.write_text(yaml.safe_dump(params), encoding="utf-8")
    return path


def targets(folder: Path, bentoml_home: Path, designs: bool) -> list[Target]:
    python = sys.executable
    bentoml = str(Path(python).with_name("bentoml"))
    base_env = {"BENTOML_HOME": str(bentoml_home), "BENTOML_DO_NOT_TRACK": "true", "PYTHONPATH": str(ROOT)}
    # One OpenMP thread in every thread of every server: FastAPI runs sync endpoints in a
    # thread pool, where the limit its module sets at import would not hold.
    base_env["OMP_NUM_THREADS"] = "1"
    serve = [bentoml, "serve", SERVICE, "--host", "127.0.0.1", "--port", "{port}"]
    workers = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))["serve"]["workers"]
    other = 1 if workers > 1 else 2  # the design variant: the other choice of worker count
    uvicorn = [python, "-m", "uvicorn", "benchmarks.fastapi_app:app", "--host", "127.0.0.1", "--port", "{port}"]
    uvicorn += ["--log-level", "warning"]

    def service(name: str, **overrides: Any) -> Target:
        params = write_params(folder, name, overrides)
        return Target(name, serve, {**base_env, "MLOPS_PARAMS": str(params)}, "/predict", "/predict_batch")

    found = [
        Target("FastAPI, 1 worker", uvicorn, base_env, "/predict", "/predict_batch"),
        Target(
            f"FastAPI, {workers} workers", [*uvicorn, "--workers", str(workers)], base_env, "/predict", "/predict_batch"
        ),
        service("service"),
    ]
    if designs:
        found += [
            service("service, coalescing off", coalesce_rows=0),
            service(f"service, {other} worker(s)", workers=other),
            service("service, log off", inference_log={**_log_settings(), "enabled": False}),
        ]
        env = {**base_env, "MLOPS_PARAMS": str(write_params(folder, "designs", {}))}
        designs_module = [bentoml, "serve", "--host", "127.0.0.1", "--port", "{port}"]
        found += [
            Target(
                "BentoML sync API",
                [*designs_module, "benchmarks.bentoml_designs:PlainSync"],
                env,
                "/predict",
                "/predict_batch",
                columns=False,
            ),
            Target(
                "BentoML adaptive batching",
                [*designs_module, "benchmarks.bentoml_designs:AdaptiveBatching"],
                env,
                "/predict_batch",
                "/predict_batch",
                single_as_batch=True,
                columns=False,
            ),
        ]
    return found


def _log_settings() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))["serve"]["inference_log"])


def register(bentoml_home: Path) -> None:
    env = {**os.environ, "BENTOML_HOME": str(bentoml_home), "BENTOML_DO_NOT_TRACK": "true"}
    mlops = str(Path(sys.executable).with_name("mlops"))
    subprocess.run([mlops, "register"], cwd=ROOT, env=env, check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="duration of each hey run")
    parser.add_argument("--rounds", type=int, default=3, help="runs per cell and target; the median is reported")
    parser.add_argument("--designs", action="store_true", help="also measure the design variants")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()
    if shutil.which("hey") is None:
        sys.exit("hey is not installed: apt-get install hey")
    os.chdir(ROOT)
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp, ExitStack() as servers:
        folder = Path(tmp)
        home = folder / "bentoml"
        register(home)
        files = payloads(folder, ROOT / "data/sample/customers.csv")
        results: dict[str, dict[str, Load]] = {}
        rates = in_process(files, ROOT / "models/model", args.seconds)
        results["in-process predict"] = {f"{key}/1": Load(rate, 0, 0, "") for key, rate in rates.items()}
        # Every server runs for the whole benchmark and each cell visits them in turn, round
        # after round, so a busy moment of the machine weighs on all of them alike.
        bases = {
            target.name: (target, servers.enter_context(running(target, free_port(), target.ready)))
            for target in targets(folder, home, args.designs)
        }
        for shape in SHAPES:
            for concurrency in CONCURRENCY:
                serving = {name: (target, base) for name, (target, base) in bases.items() if target.serves(shape)}
                runs: dict[str, list[Load]] = {name: [] for name in serving}
                for _ in range(args.rounds):
                    for name, (target, base) in serving.items():
                        path, body = target.path_and_body(shape)
                        hey(base + path, files[body], concurrency, 1)  # warm-up: connections, caches
                        runs[name].append(hey(base + path, files[body], concurrency, args.seconds))
                for name, loads in runs.items():
                    load = median_load(loads)
                    results.setdefault(name, {})[f"{shape.key}/{concurrency}"] = load
                    print(
                        f"{name:28} {shape.label:22} c={concurrency:<3} {load.rps:9.1f} req/s "
                        f"{load.rps * shape.rows:11.0f} rows/s  errors={load.errors} {load.detail} "
                        f"(runs: {', '.join(f'{run.rps:.1f}' for run in loads)})",
                        flush=True,
                    )
        print()
        print(table(results))
        if args.json:
            args.json.write_text(
                json.dumps({name: {k: vars(v) for k, v in loads.items()} for name, loads in results.items()}, indent=2)
            )


def median_load(loads: list[Load]) -> Load:
    """The median run's throughput; errors summed over all runs (any error counts)."""
    middle = sorted(loads, key=lambda load: load.rps)[len(loads) // 2]
    errors = sum(load.errors for load in loads)
    detail = "; ".join(load.detail for load in loads if load.detail)
    return Load(middle.rps, sum(load.ok for load in loads), errors, detail)


def table(results: dict[str, dict[str, Load]]) -> str:
    """Markdown: requests/s (rows/s for batches) per target and load, and the service/FastAPI ratio."""
    cells_of = [(shape, f"{shape.key}/{c}") for shape in SHAPES for c in CONCURRENCY]
    columns = [column for _, column in cells_of]
    header = "| target | " + " | ".join(f"{shape.label}, c={column.split('/')[1]}" for shape, column in cells_of) + " |"
    lines = [header, "|---" * (len(columns) + 1) + "|"]
    for name, loads in results.items():
        cells = []
        for shape, column in cells_of:
            load = loads.get(column)
            if load is None:
                cells.append("–")
                continue
            figure = f"{load.rps:,.0f} req/s" if shape.rows == 1 else f"{load.rps * shape.rows:,.0f} rows/s"
            cells.append(figure + (f" ({load.errors} errors)" if load.errors else ""))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    baseline = results.get("FastAPI, 1 worker", {})
    service = results.get("service", {})
    ratios = []
    for column in columns:
        if column in baseline and column in service and baseline[column].rps:
            ratios.append(f"{service[column].rps / baseline[column].rps:.2f}×")
        else:
            ratios.append("–")
    lines.append("| service ÷ FastAPI (1 worker) | " + " | ".join(ratios) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
