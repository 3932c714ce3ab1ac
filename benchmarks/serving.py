"""Serving throughput, side by side in one run: the BentoML service, a minimal FastAPI app
on the same model with the same number of workers, and the model called in-process.

    python -m benchmarks.serving                 # the service vs FastAPI (about 5 minutes)
    python -m benchmarks.serving --designs       # also what each piece of the service gains
    python -m benchmarks.serving --against main  # also the service as it is at another commit

Each HTTP figure is `hey` (Debian package `hey`) sending the same request for `--seconds`
at concurrency 1, 8 and 32, to servers this script starts on 127.0.0.1 and stops again.
Bodies: one record, 1,000 records, and the same 1,000 rows as columns. Every server runs
for the whole benchmark and each cell visits them in turn, round after round, so that a
busy moment of the machine weighs on all of them alike; the median round is reported.
`--designs` adds the service with one piece taken out or changed (benchmarks/bentoml_designs.py),
so the results say what each piece gains. Needs a trained model (`make run`); it is
registered into a throw-away BentoML home. Writes benchmarks/results/serving.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from benchmarks.results import write_results
from mlops_template.params import load_params
from tests.processes import free_port, running_server

ROOT = Path(__file__).resolve().parents[1]
SERVICE = "mlops_template.serving.service:PredictionService"
DESIGNS = "benchmarks.bentoml_designs"
CONCURRENCY = (1, 8, 32)
SIZES = (1, 1000)
GOAL_ROWS_PER_S = 100_000  # 1,000-row batches at c=32
GOAL_SINGLE_RATIO = 0.8  # one row at c=1, against FastAPI with as many workers


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
    single: str = "/predict"  # path of the single-row endpoint
    batch: str = "/predict_batch"
    single_as_batch: bool = False  # the single row goes as a one-record batch
    columns: bool = True  # takes a batch as columns too
    ready: str = "/readyz"
    cwd: Path = ROOT
    gains: str = ""  # for a design: what the service has that this one lacks

    def serves(self, shape: Shape) -> bool:
        return self.columns or not shape.key.endswith("columns")

    def path_and_body(self, shape: Shape) -> tuple[str, str]:
        if shape.rows == 1:
            return (self.batch, "1-as-batch") if self.single_as_batch else (self.single, shape.key)
        return self.batch, shape.key


@dataclass(frozen=True)
class Load:
    rps: float
    ok: int
    errors: int
    detail: str
    runs: tuple[float, ...] = field(default=())


@contextmanager
def running(target: Target, port: int) -> Iterator[str]:
    """Start the target's server on 127.0.0.1:port and stop its whole process group after."""
    base = f"http://127.0.0.1:{port}"
    command = [part.replace("{port}", str(port)) for part in target.command]
    log = Path(tempfile.mkdtemp(prefix="bench-")) / f"{slug(target.name)}.log"
    env = {**os.environ, **target.env}
    with running_server(command, ready_url=base + target.ready, log=log, env=env, cwd=target.cwd):
        yield base


def hey(url: str, body: Path, concurrency: int, seconds: float) -> Load:
    command = ["hey", "-z", f"{seconds}s", "-c", str(concurrency), "-t", "60", "-m", "POST"]
    out = subprocess.run(
        [*command, "-T", "application/json", "-D", str(body), url], capture_output=True, text=True, check=True
    ).stdout
    rps_match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    codes = {int(code): int(n) for code, n in re.findall(r"\[(\d{3})\]\s+(\d+) responses", out)}
    errors_section = out.split("Error distribution:", 1)[1] if "Error distribution:" in out else ""
    transport_errors = sum(int(n) for n in re.findall(r"\[(\d+)\]\s", errors_section))
    bad = sum(n for code, n in codes.items() if code != 200) + transport_errors
    detail = ", ".join(f"{code}: {n}" for code, n in sorted(codes.items()) if code != 200)
    if transport_errors:
        detail += f" transport errors: {transport_errors} ({errors_section.strip()[:200]})"
    return Load(float(rps_match.group(1)) if rps_match else 0.0, codes.get(200, 0), bad, detail)


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
    """Calls per second of the service's own path without HTTP, one thread: the request
    checks (the record model for a record, the batch reader for a batch) and
    Predictor.predict; by shape key."""
    from threadpoolctl import threadpool_limits

    from mlops_template.serving.batch import columns_from_json
    from mlops_template.serving.predictor import Predictor
    from mlops_template.serving.request import Columns, record_model, records_to_columns

    threadpool_limits(1)
    predictor = Predictor.from_directory(model_dir, threshold=0.5, version="in-process")
    record = record_model()
    batch = partial(columns_from_json, max_rows=1000)
    paths: dict[str, Callable[[bytes], Columns]] = {
        "1": lambda body: records_to_columns([record.model_validate_json(body)]),
        "1000": batch,
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


def slug(name: str) -> str:
    return re.sub(r"\W+", "_", name)


def write_params(folder: Path, name: str, overrides: dict[str, Any], base: Path = ROOT) -> Path:
    """The settings in `base`/params.yaml, `serve` overridden, the inference log in `folder`."""
    params = yaml.safe_load((base / "params.yaml").read_text(encoding="utf-8"))
    for key, value in overrides.items():
        params["serve"][key] = {**params["serve"][key], **value} if isinstance(value, dict) else value
    params["serve"]["inference_log"]["url"] = str(folder / f"log-{slug(name)}")
    path = folder / f"params-{slug(name)}.yaml"
    path.write_text(yaml.safe_dump(params), encoding="utf-8")
    return path


def source_at(ref: str, folder: Path) -> Path:
    """The repository's tree at `ref` (src/ and params.yaml), unpacked into `folder`."""
    folder.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", ref, "src", "params.yaml"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def targets(folder: Path, bentoml_home: Path, designs: list[str], against: list[str]) -> list[Target]:
    python = sys.executable
    bentoml = str(Path(python).with_name("bentoml"))
    base_env = {"BENTOML_HOME": str(bentoml_home), "BENTOML_DO_NOT_TRACK": "true", "PYTHONPATH": str(ROOT)}
    # One OpenMP thread in every thread of every server: FastAPI runs sync endpoints in a
    # thread pool, where the limit its module sets at import would not hold.
    base_env["OMP_NUM_THREADS"] = "1"
    workers = int(yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))["serve"]["workers"])
    uvicorn = [python, "-m", "uvicorn", "benchmarks.fastapi_app:app", "--host", "127.0.0.1", "--port", "{port}"]
    uvicorn += ["--log-level", "warning"]

    def service(
        name: str, module: str = SERVICE, gains: str = "", env: dict[str, str] | None = None, **serve: Any
    ) -> Target:
        environment = {**base_env, "MLOPS_PARAMS": str(write_params(folder, name, serve)), **(env or {})}
        command = [bentoml, "serve", module, "--host", "127.0.0.1", "--port", "{port}"]
        return Target(name, command, environment, gains=gains)

    found = [
        Target("FastAPI, 1 worker", uvicorn, base_env, ready="/docs"),
        Target(f"FastAPI, {workers} workers", [*uvicorn, "--workers", str(workers)], base_env, ready="/docs"),
        service("service"),
    ]
    for ref in against:
        source = source_at(ref, folder / f"source-{slug(ref)}")
        name = f"service at {ref}"
        env = base_env | {
            "MLOPS_PARAMS": str(write_params(folder, name, {}, base=source)),  # its own settings
            "PYTHONPATH": f"{source / 'src'}{os.pathsep}{ROOT}",
        }
        command = [bentoml, "serve", SERVICE, "--host", "127.0.0.1", "--port", "{port}"]
        found.append(Target(name, command, env, cwd=source, gains=f"the changes since {ref}"))
    other = 1 if workers > 1 else 2
    variant = f"{DESIGNS}:PredictionService"
    plain = service("BentoML sync API", f"{DESIGNS}:PlainSync", "async endpoints, batches read by the service")
    batching = service("BentoML adaptive batching", f"{DESIGNS}:AdaptiveBatching", "no batching dispatcher")
    choices: dict[str, Callable[[], Target]] = {
        "pydantic-reader": lambda: service(
            "service, pydantic reader", variant, "batches read by the batch types", {"DESIGN": "pydantic-reader"}
        ),
        "no-coalescing": lambda: service(
            "service, no coalescing", variant, "requests ready together predicted together", {"DESIGN": "no-coalescing"}
        ),
        "log-off": lambda: service("service, log off", gains="the inference log", inference_log={"enabled": False}),
        "workers": lambda: service(
            f"service, {other} worker(s)", gains=f"{workers} workers instead of {other}", workers=other
        ),
        "sync": lambda: Target(plain.name, plain.command, plain.env, columns=False, gains=plain.gains),
        "batching": lambda: Target(
            batching.name,
            batching.command,
            batching.env,
            single="/predict_batch",
            single_as_batch=True,
            columns=False,
            gains=batching.gains,
        ),
    }
    unknown = set(designs) - {*choices, "all"}
    if unknown:
        sys.exit(f"unknown design(s) {', '.join(sorted(unknown))}: choose from {', '.join(choices)}")
    found += [make() for name, make in choices.items() if name in designs or "all" in designs]
    return found


def register(bentoml_home: Path) -> None:
    env = {**os.environ, "BENTOML_HOME": str(bentoml_home), "BENTOML_DO_NOT_TRACK": "true"}
    mlops = str(Path(sys.executable).with_name("mlops"))
    subprocess.run([mlops, "register"], cwd=ROOT, env=env, check=True, capture_output=True)


def measure(
    servers: dict[str, tuple[Target, str]], files: dict[str, Path], rounds: int, seconds: float, only: set[str]
) -> dict[str, dict[str, Load]]:
    """Every cell (shape, concurrency) visits every server in turn, `rounds` times over."""
    results: dict[str, dict[str, Load]] = {}
    for shape in SHAPES:
        for concurrency in CONCURRENCY:
            if only and f"{shape.key}/{concurrency}" not in only:
                continue
            serving = {name: (target, base) for name, (target, base) in servers.items() if target.serves(shape)}
            runs: dict[str, list[Load]] = {name: [] for name in serving}
            for _ in range(rounds):
                for name, (target, base) in serving.items():
                    path, body = target.path_and_body(shape)
                    hey(base + path, files[body], concurrency, 1)  # warm-up: connections, caches
                    runs[name].append(hey(base + path, files[body], concurrency, seconds))
            for name, loads in runs.items():
                load = median_load(loads)
                results.setdefault(name, {})[f"{shape.key}/{concurrency}"] = load
                print(
                    f"{name:30} {shape.label:22} c={concurrency:<3} {load.rps * shape.rows:11.0f} "
                    f"{'req' if shape.rows == 1 else 'rows'}/s  errors={load.errors} {load.detail} "
                    f"(runs: {', '.join(f'{run:.1f}' for run in load.runs)} req/s)",
                    flush=True,
                )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each hey run")
    parser.add_argument("--rounds", type=int, default=3, help="runs per cell and target; the median is reported")
    parser.add_argument(
        "--designs", nargs="?", const="all", default="", help="also the service without each of its pieces (or: a,b)"
    )
    parser.add_argument("--against", action="append", default=[], metavar="REF", help="also the service at a git ref")
    parser.add_argument(
        "--cells", default="", help="only these cells, e.g. 1/1,1000/32,1000-columns/32 (rows/concurrency)"
    )
    args = parser.parse_args()
    if shutil.which("hey") is None:
        sys.exit("hey is not installed: `apt-get install hey` (Debian/Ubuntu), or see https://github.com/rakyll/hey")
    os.chdir(ROOT)
    params = load_params(ROOT / "params.yaml")  # the sample (data.input) and the trained model (paths.model_dir)
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        register(folder / "bentoml")
        files = payloads(folder, ROOT / params.data.input)
        rates = in_process(files, ROOT / params.paths.model_dir, args.seconds)
        found = targets(folder, folder / "bentoml", list(filter(None, args.designs.split(","))), args.against)
        servers = {target.name: (target, stack.enter_context(running(target, free_port()))) for target in found}
        results = {
            "in-process (one thread, no HTTP)": {f"{key}/1": Load(rate, 0, 0, "") for key, rate in rates.items()}
        }
        results |= measure(servers, files, args.rounds, args.seconds, set(filter(None, args.cells.split(","))))
    body = report(results, found, args)
    print(body)
    write_results("serving", "Serving: the service, FastAPI and in-process, side by side", body)


def median_load(loads: list[Load]) -> Load:
    """The median run's throughput; errors summed over all runs (any error counts)."""
    middle = sorted(loads, key=lambda load: load.rps)[len(loads) // 2]
    detail = "; ".join(load.detail for load in loads if load.detail)
    runs = tuple(load.rps for load in loads)
    return Load(middle.rps, sum(load.ok for load in loads), sum(load.errors for load in loads), detail, runs)


def _cells() -> list[tuple[Shape, str, str]]:
    return [(shape, f"{shape.key}/{c}", f"{shape.label}, c={c}") for shape in SHAPES for c in CONCURRENCY]


def _figure(shape: Shape, load: Load | None) -> str:
    if load is None:
        return "–"
    figure = f"{load.rps:,.0f} req/s" if shape.rows == 1 else f"{load.rps * shape.rows:,.0f} rows/s"
    return figure + (f" ({load.errors} errors)" if load.errors else "")


def ratio(top: Load | None, bottom: Load | None) -> float | None:
    """The median of the per-round ratios (the two ran minutes apart at most, in the same round)."""
    if top is None or bottom is None or not all(bottom.runs) or len(top.runs) != len(bottom.runs):
        return None
    return statistics.median(a / b for a, b in zip(top.runs, bottom.runs, strict=True))


def _table(first: list[str], rows: list[tuple[list[str], list[str]]]) -> str:
    lines = ["| " + " | ".join([*first, *(label for _, _, label in _cells())]) + " |", "|---" * (len(first) + 9) + "|"]
    return "\n".join(lines + ["| " + " | ".join([*names, *cells]) + " |" for names, cells in rows])


def _ratios(top: dict[str, Load], bottom: dict[str, Load]) -> list[str]:
    return [f"{r:.2f}×" if (r := ratio(top.get(key), bottom.get(key))) else "–" for _, key, _ in _cells()]


def report(results: dict[str, dict[str, Load]], found: list[Target], args: argparse.Namespace) -> str:
    """Markdown: the goals checked, the figures, and what each design changes against the service."""
    service = results["service"]
    workers = [name for name in results if name.startswith("FastAPI")][-1]  # as many workers as the service
    fastapi = results[workers]
    goals = []
    for key in ("1000/32", "1000-columns/32"):
        if key in service:
            rows_per_s = service[key].rps * 1000
            goals.append(
                f"- 1,000-row batches at c=32 ({key.split('/')[0]}) ≥ {GOAL_ROWS_PER_S:,} rows/s: "
                f"{rows_per_s:,.0f}, {'met' if rows_per_s >= GOAL_ROWS_PER_S else 'NOT met'} "
                f"(runs: {', '.join(f'{run * 1000:,.0f}' for run in service[key].runs)})"
            )
    if (single := ratio(service.get("1/1"), fastapi.get("1/1"))) is not None:
        goals.append(
            f"- one row at c=1 ≥ {GOAL_SINGLE_RATIO}× {workers}: {single:.2f}×, "
            f"{'met' if single >= GOAL_SINGLE_RATIO else 'NOT met'} (service runs "
            f"{', '.join(f'{run:.0f}' for run in service['1/1'].runs)}; FastAPI runs "
            f"{', '.join(f'{run:.0f}' for run in fastapi['1/1'].runs)} req/s)"
        )
    goals.append(f"- non-200 answers or transport errors from the service: {sum(x.errors for x in service.values())}")
    figures = [
        ([name], [_figure(shape, loads.get(key)) for shape, key, _ in _cells()]) for name, loads in results.items()
    ]
    figures += [([f"service ÷ {name}"], _ratios(service, results[name])) for name in ("FastAPI, 1 worker", workers)]
    gains = [([t.name, t.gains], _ratios(service, results[t.name])) for t in found if t.gains]
    parts = [
        f"Median of {args.rounds} runs of {args.seconds:g} s per cell (ratios: the median of the "
        "ratios within a round). Every cell visits every server in turn, round after round, so a busy "
        "moment weighs on all of them alike. The machine's cores are shared with `hey` and whatever else "
        "runs: absolute figures move by up to a third from one run to the next, ratios much less. "
        "FastAPI is benchmarks/fastapi_app.py: the same record model and Predictor, sync endpoints, uvicorn.",
        "## Goals\n\n" + "\n".join(goals),
        "## Throughput\n\n" + _table(["target"], figures),
    ]
    if gains:
        parts.append(
            "## What each piece gains\n\nThe service's throughput divided by that of the design without the "
            "piece (or with the alternative): above 1× the piece pays.\n\n"
            + _table(["design", "the service has"], gains)
        )
    return "\n\n".join(parts)


if __name__ == "__main__":
    main()
