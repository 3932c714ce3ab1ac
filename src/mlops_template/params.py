"""params.yaml as typed settings.

Every stage reads its settings from here, so a typo in params.yaml fails at start-up
with the key's name instead of deep inside a stage.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mlops_template.errors import UserError

DEFAULT_PARAMS = Path("params.yaml")
INFERENCE_LOG_URL_ENV = "MLOPS_INFERENCE_LOG_URL"
LABELS_URL_ENV = "MLOPS_LABELS_URL"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SampleParams(_Section):
    rows: int = Field(gt=0)
    seed: int
    defect_rate: float = Field(ge=0, le=0.2)
    drift: float = Field(ge=0)


class DataParams(_Section):
    input: str
    extra_inputs: tuple[str, ...] = ()
    labelled_dir: Path = Path("data/labelled")
    sample: SampleParams


class PathParams(_Section):
    raw: Path
    validation_dir: Path
    prepared: Path
    train: Path
    test: Path
    model_dir: Path
    metrics: Path
    segment_metrics: Path
    quality_gate: Path
    plots_dir: Path
    drift_dir: Path
    report_dir: Path


class ValidateParams(_Section):
    max_out_of_range_fraction: float = Field(ge=0, le=1)
    summary_examples: int = Field(ge=0)
    min_class_rows: int = Field(ge=1)


class PrepareParams(_Section):
    drop_duplicates: bool


class SplitParams(_Section):
    method: Literal["stratified", "time"]
    time_column: str
    test_size: float = Field(gt=0, lt=1)
    seed: int


class HistGradientBoostingParams(_Section):
    learning_rate: float = Field(gt=0)
    max_iter: int = Field(gt=0)
    max_leaf_nodes: int = Field(gt=1)
    min_samples_leaf: int = Field(gt=0)
    l2_regularization: float = Field(ge=0)


class LogisticRegressionParams(_Section):
    C: float = Field(gt=0)
    max_iter: int = Field(gt=0)


class RandomForestParams(_Section):
    n_estimators: int = Field(gt=0)
    max_depth: int | None = Field(default=None, gt=0)
    min_samples_leaf: int = Field(gt=0)


class TrainParams(_Section):
    model: Literal["hist_gradient_boosting", "logistic_regression", "random_forest"]
    seed: int
    hist_gradient_boosting: HistGradientBoostingParams
    logistic_regression: LogisticRegressionParams
    random_forest: RandomForestParams

    def estimator_params(self) -> dict[str, object]:
        """Hyper-parameters of the chosen model type only."""
        section: _Section = getattr(self, self.model)
        return section.model_dump()


class EvaluateParams(_Section):
    decision_threshold: float = Field(gt=0, lt=1)  # a binary target only
    segment_column: str | None  # None: no per-segment metrics
    calibration_bins: int = Field(ge=2)
    min_metrics: dict[str, float]
    max_metrics: dict[str, float] = Field(default_factory=dict)  # lower is better: rmse, mae, log_loss


class ReportParams(_Section):
    tolerance: float = Field(ge=0)
    must_not_regress: list[str]  # empty: the task's own (task_metrics.GUARDED)
    gate_examples: int = Field(ge=0)


DriftSource = Literal["inference_log", "file", "sample"]


class DriftSampleParams(_Section):
    rows: int = Field(gt=0)
    seed: int
    drift: float = Field(ge=0)


class DriftPredictionParams(_Section):
    enabled: bool
    weight: float = Field(ge=0)
    max_rows: int = Field(gt=0)


class DriftPerformanceParams(_Section):
    metric: str  # empty: the task's own (binary roc_auc, multi-class macro_f1, regression r2)
    max_drop: float = Field(gt=0)
    weight: float = Field(ge=0)


class DriftIssueParams(_Section):
    label: str = Field(min_length=1)
    title: str = Field(min_length=1)


class DriftRetrainParams(_Section):
    enabled: bool
    branch: str = Field(min_length=1)


class DriftLabelsParams(_Section):
    url: str  # "" = no labels; a CSV/Parquet file, an http(s) URL, or a folder/prefix of such files
    time_column: str = Field(min_length=1)

    def location(self) -> str:
        """Where the labels are: MLOPS_LABELS_URL when set (a job's environment), else `url`."""
        return os.environ.get(LABELS_URL_ENV) or self.url


class DriftParams(_Section):
    sources: tuple[DriftSource, ...] = Field(min_length=1)
    window_days: int = Field(gt=0)
    file: str
    sample: DriftSampleParams
    alpha: float = Field(gt=0, lt=1)
    correction: Literal["holm", "bh", "none"]
    min_rows: int = Field(gt=0)
    min_values: int = Field(gt=0)
    min_psi: float = Field(ge=0)
    min_missing_change: float = Field(ge=0, le=1)
    max_unseen_share: float = Field(gt=0, le=1)
    fine_bins: int = Field(ge=16, le=1_000_000)
    psi_bins: int = Field(ge=2, le=100)
    default_weight: float = Field(ge=0)
    weights: dict[str, float]
    trigger_score: float = Field(gt=0)
    prediction: DriftPredictionParams
    performance: DriftPerformanceParams
    labels: DriftLabelsParams
    plots: int = Field(ge=0, le=20)
    issue: DriftIssueParams
    retrain: DriftRetrainParams
    keepalive_after_days: int = Field(gt=0, lt=60)


class InferenceLogParams(_Section):
    enabled: bool
    url: str = Field(min_length=1)  # a folder or an fsspec URL (s3://, gs://, az://)
    flush_seconds: float = Field(gt=0)
    max_buffered_rows: int = Field(gt=0)

    def location(self) -> str:
        """Where the log is: MLOPS_INFERENCE_LOG_URL when set (the deployment's environment: the
        image carries params.yaml), else `url`. The service and the drift check both ask here."""
        return os.environ.get(INFERENCE_LOG_URL_ENV) or self.url


class ServeParams(_Section):
    model_name: str = Field(pattern=r"^[a-z0-9]([-._a-z0-9]*[a-z0-9])?$")
    workers: int = Field(ge=1)
    timeout_seconds: float = Field(gt=0)
    max_concurrency: int = Field(ge=1)
    max_batch_rows: int = Field(ge=1)
    inference_log: InferenceLogParams


class Params(_Section):
    model_config = ConfigDict(extra="allow", frozen=True)  # later issues add sections

    data: DataParams
    paths: PathParams
    validate_: ValidateParams = Field(alias="validate")
    prepare: PrepareParams
    split: SplitParams
    train: TrainParams
    evaluate: EvaluateParams
    report: ReportParams
    drift: DriftParams
    serve: ServeParams


class ParamsError(UserError):
    """params.yaml is missing, unreadable or does not match the expected settings (or the data it names)."""


def load_params(path: Path = DEFAULT_PARAMS) -> Params:
    """Read and check params.yaml; errors name the file and the key."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ParamsError(f"{path}: not found; run from the repository root or pass --params") from exc
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: expected a mapping of sections at the top level")
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise ParamsError(f"{path}: {problems}") from exc
