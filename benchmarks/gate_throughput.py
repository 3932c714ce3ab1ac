"""Throughput of the data gate on a large raw export.

Writes a generated raw CSV once (cached under the temp dir), then times, separately:
reading it with the schema's parse types (`validate.load_table`) and gating the parsed
frame (`validate.run_gate`: Pandera with every built-in and custom check, the
failure-report building included). The gate runs on a fresh copy each repeat because it
validates in place.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.results import verdict, write_results
from mlops_template.data.generate import GeneratorSettings, generate_raw, write_csv
from mlops_template.data.read import load_table
from mlops_template.schema import RawRecords
from mlops_template.validate import run_gate

GOAL_ROWS_PER_S = 10_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    path = Path(tempfile.gettempdir()) / f"mlops-bench-raw-{args.rows}.csv"
    if not path.exists():
        started = time.perf_counter()
        write_csv(generate_raw(GeneratorSettings(rows=args.rows, seed=1)), path)
        print(f"generated {path} in {time.perf_counter() - started:.1f} s")

    schema = RawRecords.to_schema()
    started = time.perf_counter()
    frame = load_table(path, schema)
    read_s = time.perf_counter() - started

    timings, cpu = [], []
    report = None
    for _ in range(args.repeats + 1):  # the first run warms up Pandera's schema caches
        copy = frame.copy()
        started, started_cpu = time.perf_counter(), time.process_time()
        report = run_gate(copy, schema, dataset="raw", source=str(path), tolerance=0.01, csv_lines=True)
        timings.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    if report is None or not report.passed:
        raise SystemExit(f"the benchmark data should pass the gate:\n{report.to_markdown() if report else ''}")
    warm = timings[1:]
    rows = len(frame)
    failures = sum(f.count for f in report.findings)
    median = statistics.median(warm)
    body = f"""The gate (`validate.run_gate`) on {rows:,} generated raw rows x {frame.shape[1]} columns, every
check and the failure report included ({failures:,} repairable values found and reported);
{args.repeats} warm runs after one that warms Pandera's schema caches.

| what | time |
|---|---|
| read the CSV with the schema's parse types (`load_table`) | {read_s:.2f} s ({rows / read_s / 1e6:.1f}M rows/s) |
| gate, first run | {timings[0]:.3f} s |
| gate, warm: median | {median:.3f} s (**{rows / median / 1e6:.1f}M rows/s**) |
| gate, warm: best | {min(warm):.3f} s ({rows / min(warm) / 1e6:.1f}M rows/s) |
| gate, warm: median CPU time (what it costs on a shared machine) | {statistics.median(cpu[1:]):.3f} s |

Goal, the warm median against >= {GOAL_ROWS_PER_S / 1e6:.0f}M rows/s: {verdict(rows / median >= GOAL_ROWS_PER_S)}.
"""
    print(body)
    write_results("gate_throughput", "The data gate's throughput", body)


if __name__ == "__main__":
    main()
