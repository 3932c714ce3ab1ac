"""Delayed labels: read from a file or a folder, joined to the id's latest prediction at or
before the label's time, and turned into contract-shaped rows by `mlops labelled-batch`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from mlops_template.cli import app
from mlops_template.drift.labels import LABEL_TIME, LabelsError, attach_labels, read_labels
from mlops_template.logstore import LogStore, batch_table
from mlops_template.params import load_params
from mlops_template.schema import RawRecords
from mlops_template.serving.request import record_model, records_to_columns
from tests.conftest import REPO_ROOT
from tests.example import example_only

pytestmark = example_only

T0 = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)


def logged(*predictions: tuple[str | None, datetime]) -> pd.DataFrame:
    """A log as LogStore.read returns it: ids and times (other columns do not matter here)."""
    return pd.DataFrame(
        {
            "customer_id": pd.Series([p[0] for p in predictions], dtype=object),
            "timestamp": pd.to_datetime([p[1] for p in predictions], utc=True),
        }
    )


def labels_of(*rows: tuple[str, bool, datetime]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "churned": np.array([r[1] for r in rows], dtype=bool),
            LABEL_TIME: pd.to_datetime([r[2] for r in rows], utc=True).astype("datetime64[us, UTC]"),
        }
    )


def test_a_label_belongs_to_the_ids_latest_prediction_at_or_before_it() -> None:
    log = logged(
        ("A", T0),  # 0: A predicted, then again later: the label goes to the later one
        ("B", T0),  # 1: B labelled exactly at its prediction time: counts
        ("A", T0 + timedelta(days=1)),  # 2
        ("C", T0 + timedelta(days=5)),  # 3: C's label came before this prediction: not its label
        (None, T0),  # 4: no id, nothing to join on
        ("D", T0),  # 5: two labels: the later one counts
    )
    labels = labels_of(
        ("A", True, T0 + timedelta(days=3)),
        ("B", False, T0),
        ("C", True, T0 + timedelta(days=2)),
        ("D", True, T0 + timedelta(days=1)),
        ("D", False, T0 + timedelta(days=4)),
        ("Z", True, T0 + timedelta(days=1)),  # never predicted
    )
    joined, matched = attach_labels(log, labels)
    assert joined["churned"].tolist() == [pd.NA, False, True, pd.NA, pd.NA, False]
    assert matched == 3
    assert str(joined["churned"].dtype) == "boolean"
    assert list(joined.columns) == [*log.columns, "churned"]


def test_an_empty_log_or_no_labels_leave_the_target_missing() -> None:
    log = logged(("A", T0))
    joined, matched = attach_labels(log, labels_of())
    assert (joined["churned"].isna().all(), matched) == (True, 0)
    joined, matched = attach_labels(logged(), labels_of(("A", True, T0)))
    assert (len(joined), matched) == (0, 0)


def params_with(tmp_path: Path, labels: str, log: str = "") -> Path:
    settings = yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8"))
    settings["drift"]["labels"]["url"] = labels
    settings["serve"]["inference_log"]["url"] = log or str(tmp_path / "log")
    settings["data"]["labelled_dir"] = str(tmp_path / "labelled")
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


def test_labels_are_read_from_a_folder_of_csv_and_parquet_files(tmp_path: Path) -> None:
    folder = tmp_path / "labels"
    folder.mkdir()
    (folder / "2026-02-02.csv").write_text(
        "customer_id,churned,labelled_at,extra\n007,Yes,2026-02-02T10:00:00Z,x\nB,no,2026-02-02,y\n", encoding="utf-8"
    )
    pd.DataFrame({"customer_id": ["C"], "churned": [True], "labelled_at": [T0]}).to_parquet(folder / "more.parquet")
    (folder / "README.md").write_text("not labels", encoding="utf-8")
    labels = read_labels(load_params(params_with(tmp_path, str(folder))))
    assert labels is not None
    assert labels["customer_id"].tolist() == ["007", "B", "C"]  # ids stay text: "007" is not 7
    assert labels["churned"].tolist() == [True, False, True]
    assert labels[LABEL_TIME].tolist() == [
        pd.Timestamp("2026-02-02T10:00:00Z"),
        pd.Timestamp("2026-02-02T00:00:00Z"),
        pd.Timestamp(T0),
    ]


def test_bad_labels_are_errors_that_name_the_file_and_the_column(tmp_path: Path) -> None:
    assert read_labels(load_params(params_with(tmp_path, ""))) is None
    with pytest.raises(LabelsError, match=r"no such file or folder; check drift.labels.url"):
        read_labels(load_params(params_with(tmp_path, str(tmp_path / "missing.csv"))))
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("id,churned,labelled_at\n1,yes,2026-02-02\n", encoding="utf-8")
    with pytest.raises(LabelsError, match=r"wrong\.csv: no column customer_id \(it has id, churned, labelled_at\)"):
        read_labels(load_params(params_with(tmp_path, str(wrong))))
    odd = tmp_path / "odd.csv"
    odd.write_text("customer_id,churned,labelled_at\n1,maybe,2026-02-02\n", encoding="utf-8")
    with pytest.raises(LabelsError, match=r"column 'churned' holds 'maybe', not a yes/no value"):
        read_labels(load_params(params_with(tmp_path, str(odd))))


def test_the_labelled_batch_is_contract_shaped_and_passes_the_gate(tmp_path: Path) -> None:
    """The command a user runs: log + labels -> a Parquet file of raw contract rows."""
    model = record_model()
    now = datetime.now(UTC)
    records = [
        model.model_validate(
            {"customer_id": f"K{i}", "signup_date": "2024-02-29", "age": 30 + i, "region": " North ", "auto_renew": "Y"}
        )
        for i in range(4)
    ]
    store = LogStore(str(tmp_path / "log"))
    probability = np.array([0.1, 0.2, 0.8, 0.9])
    when = now - timedelta(days=1)
    store.write(batch_table(records_to_columns(records), probability, probability > 0.5, "churn:1", when), when)
    labels = tmp_path / "labels.csv"
    labels.write_text(
        f"customer_id,churned,labelled_at\nK0,no,{now.isoformat()}\nK2,yes,{now.isoformat()}\nK9,yes,{now.isoformat()}\n",
        encoding="utf-8",
    )
    out = tmp_path / "labelled" / "batch.parquet"
    result = CliRunner().invoke(
        app, ["labelled-batch", "--params", str(params_with(tmp_path, str(labels))), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert f"wrote 2 labelled rows (1 positive) to {out}" in result.output
    batch = pd.read_parquet(out)
    assert list(batch.columns) == list(RawRecords.to_schema().columns)
    assert batch["customer_id"].tolist() == ["K0", "K2"]
    assert batch["churned"].tolist() == [False, True]
    assert batch["region"].tolist() == [" North "] * 2  # as the client sent it: the gate and prepare clean it
    assert batch["notes"].isna().all()
    RawRecords.validate(batch, lazy=True)


def test_a_labelled_batch_without_matches_says_why(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("customer_id,churned,labelled_at\nK0,no,2026-01-01\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["labelled-batch", "--params", str(params_with(tmp_path, str(labels)))])
    assert result.exit_code == 1
    assert "none of the 1 labels" in result.output
    assert "belongs to a prediction logged since" in result.output
