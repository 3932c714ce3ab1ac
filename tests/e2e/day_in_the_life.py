"""A day in the life of the template, with the real parts on 127.0.0.1 (`make e2e`).

train (dvc repro) → main's outputs pushed to the DVC remote → register → serve (the real
BentoML service, its inference log on S3) → a drifted batch of traffic → the log read back
from S3 → delayed labels arrive on S3 → `make drift` finds drift → the one drift issue →
the retraining branch, its new batch DVC-tracked and pushed to S3 → that branch in a fresh
clone pulls from S3 and passes its gate, quality gate and report → the new model serves and
its version shows in the log. Prometheus scrapes the service all along. With --outage, the
S3 server is then stopped mid-traffic: the service answers, the log buffers then counts what
it drops, `make drift` cannot check (exit 4); after a restart the buffered rows arrive.

The S3 server is moto's (in memory: a restart starts empty, see tests/s3.py), the GitHub API
the recording stand-in (tests/workflows/standins); everything else is the real component.
Each step prints what it did; the first that breaks ends the run with its name (exit 1).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import httpx
import yaml

from mlops_template.data.generate import GeneratorSettings, generate_raw
from mlops_template.logstore import LogStore
from tests.e2e import container
from tests.e2e.world import REPOSITORY, StepError, World, component_versions, wait_for
from tests.processes import free_port
from tests.repos import REPO_ROOT, clone_tracked_files
from tests.s3 import S3Server
from tests.workflows.standins import fake_github

BUCKET = "e2e"
LOG_URL = f"s3://{BUCKET}/inference"
LABELS_PREFIX = "labels"
DVC_URL = f"s3://{BUCKET}/dvc"
TRAFFIC_ROWS = 3_000
BATCH_ROWS = 500
EXIT_DRIFT, EXIT_CANNOT_CHECK = 3, 4
MAKE_FAILED = 2  # make's own code when a recipe fails; its message names the recipe's


def metric(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


class Day:
    def __init__(self, world: World, s3: S3Server, outage: bool, base_image: str | None = None) -> None:
        self.world, self.s3, self.outage = world, s3, outage
        self.base_image = base_image  # set: the service runs as the image pulled from a local registry
        self.registry = ""
        self.main = world.root / "main"
        self.fresh = world.root / "fresh"
        self.origin = fake_github.git_server(REPOSITORY, world.github)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.serve_params = world.root / "serve-params.yaml"
        self.first_tag = self.new_tag = ""
        self.prometheus = ""
        self.service: ExitStack | None = None
        self.world.env |= {"MLOPS_INFERENCE_LOG_URL": LOG_URL, "MLOPS_LABELS_URL": f"s3://{BUCKET}/{LABELS_PREFIX}/"}

    def steps(self) -> list[tuple[str, Callable[[], str]]]:
        steps = [
            ("components", self.components),
            ("clone", self.clone),
            ("train", self.train),
            ("push main's outputs", self.push_main),
            ("register", self.register),
            ("serve", self.serve),
            ("traffic", self.traffic),
            ("log in S3", self.log_in_s3),
            ("labels arrive", self.labels),
            ("make drift", self.drift),
            ("drift issue", self.drift_issue),
            ("retraining branch", self.retrain),
            ("retraining PR in a fresh clone", self.fresh_clone),
            ("new model serves", self.new_model),
            ("prometheus", self.prometheus_query),
        ]
        return steps + ([("S3 outage", self.s3_outage)] if self.outage else [])

    # ---- the steps: each returns one line saying what it saw --------------------------------

    def components(self) -> str:
        self.s3.start()
        self.s3.make_bucket(BUCKET)
        versions = ", ".join(f"{name} {v}" for name, v in component_versions().items())
        said = f"{versions}; S3 at {self.s3.endpoint} (bucket {BUCKET})"
        if self.base_image:
            engine = container.start_engine(self.world)
            self.registry = container.start_registry(self.world)
            container.check_base_image(self.world, self.base_image)
            docker = container.docker(self.world, "version", "--format", "{{.Server.Version}}").stdout.strip()
            said += f"; docker {docker} ({engine}), docker-registry at {self.registry}, base image {self.base_image}"
        return said

    def clone(self) -> str:
        clone_tracked_files(self.main, REPO_ROOT, committed_outputs=True)
        self.origin.parent.mkdir(parents=True)
        self.world.run(self.world.root, "git", "init", "-q", "--bare", str(self.origin))
        self.world.run(self.main, "git", "remote", "add", "origin", str(self.origin))
        self.world.run(self.main, "git", "push", "-q", "origin", "main")
        return f"{self.main} (branch main, pushed to the GitHub stand-in's git server)"

    def train(self) -> str:
        self.world.make(self.main, "pull", f"DVC_REMOTE_URL={DVC_URL}")  # an empty remote: nothing to pull yet
        self.world.make(self.main, "run")
        metrics = json.loads((self.main / "metrics" / "metrics.json").read_text(encoding="utf-8"))
        return "test split: " + ", ".join(f"{name} {metrics[name]:.3f}" for name in ("roc_auc", "pr_auc", "recall"))

    def push_main(self) -> str:
        self.world.make(self.main, "push-data")
        keys = self.s3.keys(BUCKET, "dvc/")
        if not any("/runs/" in key for key in keys):
            raise StepError(f"no run-cache entry under {DVC_URL}: {keys[:5]}")
        return f"{len(keys)} objects under {DVC_URL} (data, model and run-cache)"

    def _register(self, repo: Path) -> str:
        out = self.world.make(repo, "bento-model").stdout
        registered = re.findall(r"^(?:already )?registered (\S+)", out, flags=re.M)
        if not registered:
            raise StepError(f"no model tag in the output of make bento-model:\n{out}")
        return registered[-1]

    def register(self) -> str:
        self.first_tag = self._register(self.main)
        return f"model {self.first_tag} in the BentoML store"

    def serve(self) -> str:
        settings = yaml.safe_load((self.main / "params.yaml").read_text(encoding="utf-8"))
        settings["serve"]["workers"] = 1
        settings["serve"]["inference_log"] |= {"flush_seconds": 0.5, "max_buffered_rows": 2_000}
        self.serve_params.write_text(yaml.safe_dump(settings), encoding="utf-8")
        self.service = self._serve(self.main, "service-1")
        self.prometheus = self.world.prometheus(f"127.0.0.1:{self.port}", free_port())
        return f"{self.url} (log {LOG_URL}); Prometheus at {self.prometheus} scraping it"

    def _serve(self, repo: Path, name: str) -> ExitStack:
        if not self.base_image:
            return self.world.serve(repo, self.port, self.serve_params, name)
        reference = container.build_push_pull(self.world, repo, self.registry, self.base_image)
        print(f"    image {reference}: built, pushed, removed here and pulled from the registry", flush=True)
        return container.run_container(self.world, reference, self.port, self.serve_params, self.s3.env())

    def _post(self, rows: int, seed: int, first_id: int) -> int:
        raw = generate_raw(GeneratorSettings(rows=rows, seed=seed, drift=1.0, defect_rate=0.0, first_id=first_id))
        records = json.loads(raw.drop(columns=["churned"]).to_json(orient="records", date_format="iso"))
        with httpx.Client(base_url=self.url, timeout=60) as client:
            for start in range(0, len(records), BATCH_ROWS):
                response = client.post("/predict_batch", json={"records": records[start : start + BATCH_ROWS]})
                if response.status_code != 200:
                    raise StepError(f"/predict_batch answered {response.status_code}: {response.text[:500]}")
                time.sleep(0.2)
        self.labels_truth = raw[["customer_id", "churned"]]
        return len(records)

    def traffic(self) -> str:
        sent = self._post(TRAFFIC_ROWS, seed=7, first_id=2_000_000)
        return f"{sent:,} rows of the generator's drifted sample, in batches of {BATCH_ROWS} with customer ids"

    def log_in_s3(self) -> str:
        store = LogStore(LOG_URL)
        wait_for(lambda: len(store.read()) >= TRAFFIC_ROWS, 60, f"{TRAFFIC_ROWS} rows in {LOG_URL}")
        log = store.read()
        files = self.s3.keys(BUCKET, "inference/")
        return f"{len(files)} Parquet files, {len(log):,} rows, model versions {sorted(set(log['model_version']))}"

    def labels(self) -> str:
        labels = self.labels_truth.assign(labelled_at=datetime.now(UTC).isoformat())
        key = f"{LABELS_PREFIX}/{datetime.now(UTC):%Y-%m-%d}.csv"
        self.s3.client().put_object(Bucket=BUCKET, Key=key, Body=labels.to_csv(index=False).encode())
        return f"{len(labels):,} labels (customer_id, churned, labelled_at) at s3://{BUCKET}/{key}"

    def drift(self) -> str:
        result = self.world.make(self.main, "drift", expect=(MAKE_FAILED,))
        if f"drift] Error {EXIT_DRIFT}" not in result.stderr:  # make exits 2 and names the command's code
            raise StepError(f"mlops drift did not exit {EXIT_DRIFT} (drift):\n{result.stdout}\n{result.stderr}")
        document = json.loads((self.main / "reports" / "drift" / "drift.json").read_text(encoding="utf-8"))
        if document["current"].get("source", "inference_log") == "sample" or document.get("performance") is None:
            raise StepError(f"the drift check did not read the log with labels: {document['current']}")
        summary = [line for line in result.stdout.splitlines() if line.startswith("drift")]
        said = summary[0] if summary else document["summary"]
        return f"exit 3: {said}; current = {document['current']['description']}"

    def drift_issue(self) -> str:
        out = self.world.make(self.main, "drift-issue", extra={"DRIFT_RETRAIN": "yes"}).stdout.strip().splitlines()
        issues = fake_github.load(self.world.github)["issues"]
        if len(issues) != 1:
            raise StepError(f"expected one drift issue, the stand-in holds {len(issues)}")
        return f"{out[-1]}; the GitHub stand-in holds 1 issue: {issues[0]['title']!r}"

    def retrain(self) -> str:
        before = set(self.s3.keys(BUCKET, "dvc/"))
        out = self.world.make(self.main, "drift-retrain").stdout.strip().splitlines()
        added = sorted(set(self.s3.keys(BUCKET, "dvc/")) - before)
        if not added:
            raise StepError(f"drift-retrain pushed nothing to {DVC_URL}")
        pulls = fake_github.load(self.world.github)["pulls"]
        if len(pulls) != 1:
            raise StepError(f"expected one retraining pull request, the stand-in holds {len(pulls)}")
        return f"{out[-2]}; {out[-1]}; new objects on the remote: {added}"

    def fresh_clone(self) -> str:
        self.world.run(self.world.root, "git", "clone", "-q", "-b", "drift-retrain", str(self.origin), str(self.fresh))
        self.world.make(self.fresh, "pull", f"DVC_REMOTE_URL={DVC_URL}")
        listed = yaml.safe_load((self.fresh / "params.yaml").read_text(encoding="utf-8"))["data"]["extra_inputs"]
        missing = [name for name in listed if not (self.fresh / name).is_file()]
        if not listed or missing:
            raise StepError(f"make pull did not bring the new batch from S3: listed {listed}, missing {missing}")
        self.world.make(self.fresh, "run")
        self.world.make(self.fresh, "check-model")  # the model built is the one the branch's dvc.lock records
        self.world.make(self.fresh, "report", "REPORT_BASE=origin/main")
        verdict = self.world.make(self.fresh, "report-check").stdout.strip().splitlines()
        return (
            f"pulled {listed} from S3; dvc repro (gate, quality gate) passed and rebuilt the model dvc.lock "
            f"records (make check-model); report: {verdict[-1]}"
        )

    def new_model(self) -> str:
        self.new_tag = self._register(self.fresh)
        if self.new_tag == self.first_tag:
            raise StepError(f"the retrained model has the first one's version {self.new_tag}")
        assert self.service is not None
        self.service.close()
        self.service = self._serve(self.fresh, "service-2")
        self._post(1_000, seed=8, first_id=3_000_000)
        store = LogStore(LOG_URL)
        wait_for(lambda: self.new_tag in set(store.read()["model_version"]), 60, f"{self.new_tag} in the log")
        counts = store.read()["model_version"].value_counts().to_dict()
        return f"{self.new_tag} serves; the log on S3 holds rows per model version {counts}"

    def _query(self, expression: str) -> float | None:
        address = f"{self.prometheus}/api/v1/query?query={urllib.parse.quote(expression)}"
        with urllib.request.urlopen(address, timeout=10) as response:  # noqa: S310 (127.0.0.1)
            result = json.load(response)["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    def prometheus_query(self) -> str:
        expression = 'sum(bentoml_service_request_total{endpoint="/predict_batch"})'
        wait_for(lambda: (self._query(expression) or 0) > 0, 30, f"Prometheus to see {expression}")
        rows = self._query("sum(mlops_predictions_total)")
        return f"{expression} = {self._query(expression):.0f}; sum(mlops_predictions_total) = {rows}"

    def s3_outage(self) -> str:
        with httpx.Client(base_url=self.url, timeout=60) as client:
            before = client.get("/metrics").text
        written, dropped = (metric(before, f"mlops_inference_log_{n}_rows_total") for n in ("written", "dropped"))
        self.s3.stop()
        print("    S3 server stopped", flush=True)
        sent = self._post(4_000, seed=9, first_id=4_000_000)  # _post fails the step on any answer but 200
        with httpx.Client(base_url=self.url, timeout=60) as client:
            during = client.get("/metrics").text
        dropped_now = metric(during, "mlops_inference_log_dropped_rows_total") - dropped
        buffered = sent - dropped_now
        if dropped_now <= 0:
            raise StepError("the log dropped nothing with S3 down and 4,000 rows sent to a 2,000-row buffer")
        drift = self.world.make(self.main, "drift", expect=(MAKE_FAILED,))
        if (
            f"drift] Error {EXIT_CANNOT_CHECK}" not in drift.stderr
            or "could not check" not in drift.stderr
            or "Traceback" in drift.stderr
        ):
            raise StepError(f"make drift with S3 down did not say 'could not check' cleanly:\n{drift.stderr}")
        message = next(line for line in drift.stderr.splitlines() if "could not check" in line)
        self.s3.start()  # moto starts empty: the bucket again, then the buffered rows arrive
        self.s3.make_bucket(BUCKET)
        print("    S3 server restarted (empty: moto keeps nothing), bucket made again", flush=True)

        def arrived() -> bool:
            with httpx.Client(base_url=self.url, timeout=60) as client:
                now = metric(client.get("/metrics").text, "mlops_inference_log_written_rows_total")
            return now >= written + buffered

        wait_for(arrived, 90, f"the {buffered:,.0f} buffered rows to be written after the restart")
        in_s3 = len(LogStore(LOG_URL).read())
        if in_s3 != buffered:
            raise StepError(f"{buffered:,.0f} rows were buffered through the outage, {in_s3:,} reached S3")
        return (
            f"the service answered all {sent:,} rows; {dropped_now:,.0f} dropped and counted, {buffered:,.0f} "
            f"buffered and written after the restart ({in_s3:,} in S3); make drift meanwhile: exit 4, {message!r}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--outage", action="store_true", help="end by stopping the S3 server mid-traffic")
    parser.add_argument(
        "--container",
        metavar="BASE_IMAGE",
        help="serve the image built on BASE_IMAGE and pulled from a local registry (docker.io, docker-registry)",
    )
    parser.add_argument("--workdir", type=Path, help="keep everything here (default: a temporary folder, removed)")
    args = parser.parse_args(argv)

    def interrupted(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, interrupted)
    started = time.monotonic()
    with ExitStack() as stack:
        root = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="e2e-")))
        root.mkdir(parents=True, exist_ok=True)
        s3 = S3Server(root / "moto.log")
        stack.callback(s3.stop)
        world = World(root, s3.env(), stack)
        day = Day(world, s3, args.outage, args.container)
        os.environ.update(s3.env())  # this process reads S3 too (the log, the keys)
        steps = day.steps()
        for number, (name, step) in enumerate(steps, 1):
            print(f"[{number}/{len(steps)}] {name}", flush=True)
            began = time.monotonic()
            try:
                said = step()
            except (StepError, subprocess.SubprocessError, OSError, RuntimeError, KeyError, ValueError) as exc:
                print(f"FAILED at step {number} '{name}': {exc}\n(commands' output: {world.logs})", file=sys.stderr)
                return 1
            except KeyboardInterrupt:
                print(f"interrupted at step {number} '{name}': stopping every process started", file=sys.stderr)
                return 130
            print(f"    ok ({time.monotonic() - began:.0f} s): {said}", flush=True)
        print(f"day in the life: {len(steps)} steps passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
