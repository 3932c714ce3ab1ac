"""Judging metric moves: direction per metric, tolerance, and the PR verdict."""

from __future__ import annotations

import pytest

from mlops_template.report.compare import judge, verdict


@pytest.mark.parametrize(
    ("name", "old", "new", "expected"),
    [
        ("roc_auc", 0.80, 0.82, "better"),
        ("roc_auc", 0.82, 0.80, "worse"),
        ("log_loss", 0.40, 0.38, "better"),  # a loss is better when lower
        ("brier", 0.13, 0.15, "worse"),
        ("region.east.brier", 0.13, 0.15, "worse"),  # segment keys are judged by their last part
        ("recall", 0.500, 0.5015, "unchanged"),  # within the tolerance
        ("f1", None, 0.5, "new"),
        ("f1", 0.5, None, "removed"),
        ("test_rows", 4000, 3000, "info"),  # describes the test set, not the model
        ("roc_auc", 0.8, float("nan"), "removed"),
    ],
)
def test_each_metric_is_judged_in_its_own_direction(name: str, old: float, new: float, expected: str) -> None:
    assert judge(name, old, new, tolerance=0.002).change == expected


def test_a_regression_beyond_the_tolerance_fails_even_when_every_gate_passes() -> None:
    changes = [judge("roc_auc", 0.83, 0.82, 0.002), judge("pr_auc", 0.53, 0.531, 0.002)]
    result = verdict(
        gate_passed=True,
        pipeline_complete=True,
        stale_stages=[],
        quality_gate_passed=True,
        quality_failures=[],
        changes=changes,
        must_not_regress=["roc_auc", "pr_auc"],
        tolerance=0.002,
    )
    assert not result.passed
    assert len(result.reasons) == 1
    assert "`roc_auc` is worse" in result.reasons[0]
    assert "0.8300 → 0.8200" in result.reasons[0]


def test_a_first_model_with_nothing_to_compare_passes_with_a_note() -> None:
    result = verdict(
        gate_passed=True,
        pipeline_complete=True,
        stale_stages=[],
        quality_gate_passed=True,
        quality_failures=[],
        changes=[judge("roc_auc", None, 0.8, 0.002)],
        must_not_regress=["roc_auc"],
        tolerance=0.002,
    )
    assert result.passed
    assert "nothing to compare" in result.notes[0]


def test_a_failed_gate_and_an_unfinished_pipeline_are_reasons() -> None:
    failed_gate = verdict(
        gate_passed=False,
        pipeline_complete=False,
        stale_stages=["validate"],
        quality_gate_passed=None,
        quality_failures=[],
        changes=[],
        must_not_regress=[],
        tolerance=0.002,
    )
    assert failed_gate.reasons == ["the data gate failed: the data breaks the contract (see *Data gate* below)"]
    crashed = verdict(
        gate_passed=True,
        pipeline_complete=False,
        stale_stages=["train"],
        quality_gate_passed=None,
        quality_failures=[],
        changes=[],
        must_not_regress=[],
        tolerance=0.002,
    )
    assert crashed.reasons == ["the pipeline did not finish: `train` not reproduced (see the job log)"]


def test_a_drop_on_changed_training_data_is_a_note_not_a_regression() -> None:
    changes = [judge("roc_auc", 0.832, 0.817, 0.002)]
    same_data = verdict(
        gate_passed=True,
        pipeline_complete=True,
        stale_stages=[],
        quality_gate_passed=True,
        quality_failures=[],
        changes=changes,
        must_not_regress=["roc_auc"],
        tolerance=0.002,
    )
    new_data = verdict(
        gate_passed=True,
        pipeline_complete=True,
        stale_stages=[],
        quality_gate_passed=True,
        quality_failures=[],
        changes=changes,
        must_not_regress=["roc_auc"],
        tolerance=0.002,
        data_changed=True,
    )
    assert not same_data.passed
    assert new_data.passed
    assert "different test sets" in new_data.notes[0]
    failed_gate = verdict(
        gate_passed=True,
        pipeline_complete=True,
        stale_stages=[],
        quality_gate_passed=False,
        quality_failures=["`roc_auc` is 0.70, below the minimum 0.75"],
        changes=changes,
        must_not_regress=["roc_auc"],
        tolerance=0.002,
        data_changed=True,
    )
    assert not failed_gate.passed  # new data never excuses the quality gate
