"""The drift cases, end to end through `mlops drift`: exit code, drift.json and drift.md.

no drift → 0; a shifted number, a new category → 3; a missing column, a tiny batch, no
reference → 4 with a one-line reason. Also: the inference log as the source (its logged
probabilities are used), the fallback order of sources, and performance drift with labels.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from mlops_template.cli import app
from mlops_template.logstore import LogStore, batch_table
from tests.example import example_only
from tests.example.drift_world import World, build_world, raw_batch, reference_split, shifted

pytestmark = example_only

EXIT_NO_DRIFT, EXIT_DRIFT, EXIT_CANNOT_CHECK = 0, 3, 4


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("drift-world"))


def check(
    world: World, current: pd.DataFrame | None, *args: str, params: Path | None = None
) -> tuple[int, dict[str, Any], str]:
    """Run `mlops drift` on `current` (written as CSV) and return exit code, drift.json, output."""
    params = params or world.params_path
    extra = list(args)
    if current is not None:
        extra += ["--current", str(world.write_csv(current, f"current-{id(current)}.csv"))]
    result = CliRunner().invoke(app, ["drift", "--params", str(params), *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    report_dir = world.root / "reports" / "drift"
    document = json.loads((report_dir / "drift.json").read_text(encoding="utf-8"))
    assert (report_dir / "drift.md").read_text(encoding="utf-8").startswith("<!--")
    return result.exit_code, document, result.output


def verdicts(document: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["verdict"] for f in document["features"]}


def test_no_drift(world: World) -> None:
    code, document, output = check(world, raw_batch(5_000, seed=11))
    assert code == EXIT_NO_DRIFT, output
    assert document["status"] == "no drift"
    assert document["exit_code"] == EXIT_NO_DRIFT
    assert set(verdicts(document).values()) == {"no drift"}
    assert document["prediction"]["verdict"] == "no drift"
    assert document["performance"]["verdict"] == "no drift"  # the batch is labelled
    for feature in document["features"]:  # the machine-readable fields of every feature
        assert {"test", "statistic", "p_value", "p_adjusted", "psi", "verdict"} <= feature.keys()


def test_shift_in_one_numeric_feature(world: World) -> None:
    train, _ = reference_split()
    current = shifted(raw_batch(5_000, seed=12), "avg_session_minutes", 0.5, train)
    code, document, output = check(world, current)
    assert code == EXIT_DRIFT, output
    drifted = {name for name, v in verdicts(document).items() if v == "drift"}
    assert drifted == {"avg_session_minutes"}
    feature = next(f for f in document["features"] if f["name"] == "avg_session_minutes")
    assert feature["test"] == "KS"
    assert feature["p_adjusted"] <= 0.05
    assert "distribution changed" in feature["reasons"][0]
    assert "avg_session_minutes" in output
    assert (world.root / "reports" / "drift" / "plots" / "avg_session_minutes.png").stat().st_size > 1000


def test_new_category(world: World) -> None:
    current = raw_batch(5_000, seed=13)
    current["payment_method"] = current["payment_method"].astype("string")
    current.loc[current.index[::10], "payment_method"] = "Crypto Wallet"
    code, document, output = check(world, current)
    assert code == EXIT_DRIFT, output
    feature = next(f for f in document["features"] if f["name"] == "payment_method")
    assert feature["verdict"] == "drift"
    assert feature["unseen_values"] == {"Crypto Wallet": len(current.index[::10])}
    assert feature["unseen_share"] == pytest.approx(0.1, abs=0.01)
    assert any("never saw" in r for r in feature["reasons"])
    # the unseen values are not mistaken for missing ones
    assert feature["missing_current"] < 0.05


def test_missing_column(world: World) -> None:
    current = raw_batch(2_000, seed=14).drop(columns=["tenure_months"])
    code, document, output = check(world, current)
    assert code == EXIT_CANNOT_CHECK
    assert document["status"] == "could not check"
    assert "tenure_months" in document["summary"]
    assert "Traceback" not in output
    assert "tenure_months" in output


def test_tiny_batch(world: World) -> None:
    code, document, output = check(world, raw_batch(50, seed=15))
    assert code == EXIT_CANNOT_CHECK
    assert "50 rows" in document["summary"]
    assert "drift.min_rows" in document["summary"]
    assert "Traceback" not in output


def test_no_reference(tmp_path: Path) -> None:
    world = build_world(tmp_path, with_model=False)
    (tmp_path / "data" / "split" / "train.parquet").unlink()
    code, document, _ = check(world, raw_batch(1_000, seed=16))
    assert code == EXIT_CANNOT_CHECK
    assert "make run" in document["summary"]


def test_drift_can_exit_zero_for_ci(world: World) -> None:
    current = shifted(raw_batch(3_000, seed=17), "age", 1.0, reference_split()[0])
    code, document, _ = check(world, current, "--no-fail-on-drift")
    assert code == EXIT_NO_DRIFT
    assert document["status"] == "drift"
    assert document["exit_code"] == EXIT_DRIFT


def test_unreadable_file_cannot_check(world: World) -> None:
    bad = world.root / "bad.csv"
    bad.write_text("a;b;c\n1;2;3\n", encoding="utf-8")
    code, document, output = check(world, None, "--current", str(bad))
    assert code == EXIT_CANNOT_CHECK
    assert "semicolon" in document["summary"]
    assert "Traceback" not in output


def test_performance_drift_with_labels(world: World) -> None:
    """Same features, but the labels no longer follow them (concept drift): only performance moves."""
    current = raw_batch(5_000, seed=18)
    flip = current.sample(frac=0.35, random_state=1).index
    current.loc[flip, "churned"] = current.loc[flip, "churned"].map(
        lambda v: "no" if str(v).lower() in {"yes", "y", "true", "1"} else "yes"
    )
    code, document, output = check(world, current)
    assert code == EXIT_DRIFT, output
    assert document["performance"]["verdict"] == "drift"
    assert document["performance"]["drop"] >= 0.05
    assert set(verdicts(document).values()) == {"no drift"}


def log_raw(
    log_dir: Path,
    raw: pd.DataFrame,
    probability: float | np.ndarray,
    batch_rows: int = 250,
    when: datetime | None = None,
) -> None:
    """`raw` in the inference log, a file per batch as the service writes it, the answers `probability`."""
    store = LogStore(str(log_dir))
    answers = np.broadcast_to(np.asarray(probability, dtype=float), len(raw))
    when = when or datetime.now(UTC)
    for start in range(0, len(raw), batch_rows):
        batch, scores = raw.iloc[start : start + batch_rows], answers[start : start + batch_rows]
        store.write(batch_table(batch, scores, scores >= 0.5, "churn:test", when), when)


def test_inference_log_source_uses_logged_probabilities(world: World) -> None:
    log_dir = world.root / "logs" / "inference"
    raw = raw_batch(1_000, seed=19).drop(columns=["churned", "customer_id", "notes"])
    log_raw(log_dir, raw, probability=0.2)
    params = world.params_with(sources=["inference_log", "sample"])
    code, document, output = check(world, None, params=params)
    assert document["current"]["source"] == "inference_log", output
    assert document["current"]["rows"] == len(raw)
    assert document["current"]["model_versions"] == ["churn:test"]
    assert "logged" in " ".join(document["notes"])
    # every logged score is 0.2: the score distribution has drifted, the features have not
    assert document["prediction"]["verdict"] == "drift"
    assert set(verdicts(document).values()) == {"no drift"}
    assert code == EXIT_DRIFT


def params_with_log(world: World, log_dir: Path) -> Path:
    """Params of this world reading only the inference log in `log_dir`."""
    text = world.params_with(sources=["inference_log"]).read_text(encoding="utf-8")
    params = world.root / f"params-{log_dir.name}.yaml"
    params.write_text(text.replace(str(world.root / "logs" / "inference"), str(log_dir)), encoding="utf-8")
    return params


def test_the_inference_log_keeps_unseen_categories_as_received(world: World) -> None:
    log_dir = world.root / "logs" / "unseen"
    raw = raw_batch(1_000, seed=22).drop(columns=["churned", "customer_id", "notes"])
    raw["payment_method"] = raw["payment_method"].astype(object)
    raw.loc[raw.index[::10], "payment_method"] = "Crypto Wallet"
    log_raw(log_dir, raw, probability=0.3)
    code, document, output = check(world, None, params=params_with_log(world, log_dir))
    assert document["current"]["rows"] == len(raw), output
    feature = next(f for f in document["features"] if f["name"] == "payment_method")
    assert feature["unseen_values"] == {"Crypto Wallet": len(raw.index[::10])}
    assert code == EXIT_DRIFT


def test_a_file_that_is_not_parquet_cannot_be_checked(world: World) -> None:
    log_dir = world.root / "logs" / "foreign"
    folder = log_dir / f"date={datetime.now(UTC):%Y-%m-%d}" / "hour=00"
    folder.mkdir(parents=True)
    (folder / "worker-1.parquet").write_text('{"other": 1}\n', encoding="utf-8")
    code, document, output = check(world, None, params=params_with_log(world, log_dir))
    assert code == EXIT_CANNOT_CHECK
    assert f"the inference log at {log_dir} cannot be read" in document["summary"]
    assert "worker-1.parquet" in document["summary"]
    assert "Traceback" not in output


def test_delayed_labels_give_the_logged_batch_its_performance_check(world: World) -> None:
    """The log has no target; labels arriving later (by id, after the prediction) supply it."""
    log_dir = world.root / "logs" / "labelled"
    current = raw_batch(1_600, seed=31).drop_duplicates(subset="customer_id").iloc[:1_500]  # one label per prediction
    truth = current["churned"].map(lambda v: str(v).strip().lower() in {"yes", "y", "true", "1"})
    predicted = datetime.now(UTC) - timedelta(days=2)
    scores = np.where(truth, 0.3, 0.7)  # the model has it backwards now: performance drift
    log_raw(log_dir, current.drop(columns=["churned", "notes"]), scores, when=predicted)
    labels = pd.DataFrame(
        {
            "customer_id": current["customer_id"],
            "churned": truth.map({True: "yes", False: "no"}),
            "labelled_at": (predicted + timedelta(days=1)).isoformat(),
        }
    ).iloc[:1_200]
    labels_file = world.write_csv(labels, "labels.csv")
    settings = yaml.safe_load(params_with_log(world, log_dir).read_text(encoding="utf-8"))
    settings["drift"]["labels"]["url"] = str(labels_file)
    params = world.root / "params-labelled.yaml"
    params.write_text(yaml.safe_dump(settings), encoding="utf-8")
    code, document, output = check(world, None, params=params)
    assert document["current"]["source"] == "inference_log", output
    assert document["current"]["labelled_rows"] == 1_200
    assert "1,200 of the 1,200 labels" in " ".join(document["notes"])
    assert document["performance"]["labelled_rows"] == 1_200
    assert document["performance"]["current"] < 0.1
    assert document["performance"]["verdict"] == "drift"
    assert code == EXIT_DRIFT


def test_sources_fall_back_in_order_and_name_what_was_tried(world: World) -> None:
    params = world.params_with(sources=["inference_log", "file"], file="", window_days=1)
    empty_log = world.root / "no-log"
    text = params.read_text(encoding="utf-8").replace(str(world.root / "logs" / "inference"), str(empty_log))
    params.write_text(text, encoding="utf-8")
    code, document, _ = check(world, None, params=params)
    assert code == EXIT_CANNOT_CHECK
    assert "inference log" in document["summary"]
    assert "drift.file is empty" in document["summary"]


def test_weights_must_name_features(world: World) -> None:
    params = world.params_with(weights={"no_such_column": 2.0})
    code, document, _ = check(world, raw_batch(1_000, seed=20), params=params)
    assert code == EXIT_CANNOT_CHECK
    assert "no_such_column" in document["summary"]


def test_weight_zero_reports_but_does_not_alarm(world: World) -> None:
    current = shifted(raw_batch(3_000, seed=21), "age", 1.0, reference_split()[0])
    params = world.params_with(weights={"age": 0.0})
    code, document, _ = check(world, current, params=params)
    assert verdicts(document)["age"] == "drift"
    assert document["status"] == "no drift"
    assert code == EXIT_NO_DRIFT


def test_current_data_from_a_url(world: World) -> None:
    """An http(s) URL is downloaded (here from a server on 127.0.0.1) and checked like a file."""
    import functools
    import http.server
    import threading

    world.write_csv(raw_batch(2_000, seed=22), "served.csv")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(world.root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/served.csv"
        code, document, output = check(world, None, "--current", url)
    finally:
        server.shutdown()
    assert code == EXIT_NO_DRIFT, output
    assert document["current"]["description"] == f"file {url}"


def test_current_data_from_a_dvc_tracked_file_is_pulled(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A DVC-tracked file missing from the work tree is fetched from the DVC remote first."""
    import shutil
    import subprocess
    import sys

    def dvc(*args: str) -> None:
        subprocess.run([sys.executable, "-m", "dvc", *args], cwd=tmp_path, check=True, capture_output=True)

    dvc("init", "--no-scm", "-q")
    dvc("remote", "add", "-d", "local", str(tmp_path / "remote"))
    raw_batch(2_000, seed=23).to_csv(tmp_path / "batch.csv", index=False)
    dvc("add", "-q", "batch.csv")
    dvc("push", "-q")
    (tmp_path / "batch.csv").unlink()
    shutil.rmtree(tmp_path / ".dvc" / "cache")
    monkeypatch.chdir(tmp_path)
    code, document, output = check(world, None, "--current", "batch.csv")
    assert code == EXIT_NO_DRIFT, output
    assert document["current"]["rows"] == len(raw_batch(2_000, seed=23))
    assert (tmp_path / "batch.csv").is_file()
