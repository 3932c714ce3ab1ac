"""The trained model enters the BentoML model store with its lineage.

`register` copies what `train` saved (`paths.model_dir`) into the store under
`serve.model_name`, for `bentoml build` to pack. Labels (searchable with `bentoml models
list`) identify the model: the training data's DVC hash, the git commit, the model type, the
quality gate; metadata holds the model card, the training parameters, the test metrics and
the decision threshold the service labels with. The version hashes the model file, its card
and the threshold: registering a model twice is a no-op, and an image's tag names exactly
what answers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bentoml

from mlops_template.errors import UserError
from mlops_template.external import CommandError, run
from mlops_template.model_files import CARD_FILE, MODEL_FILE
from mlops_template.params import Params
from mlops_template.serving.predictor import Predictor

THRESHOLD_KEY = "decision_threshold"
GIT_TIMEOUT_S = 10


class RegistrationError(UserError, ValueError):
    """The model cannot be registered; the message says what to run first."""


@dataclass(frozen=True)
class Registered:
    tag: str
    created: bool
    labels: dict[str, str]


def git_commit(cwd: Path | None = None) -> str:
    """HEAD's SHA, with '-dirty' when tracked files differ from it; 'unknown' outside git."""
    try:
        sha = run(["git", "rev-parse", "HEAD"], cwd=cwd, timeout=GIT_TIMEOUT_S).strip()
        dirty = run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd, timeout=GIT_TIMEOUT_S).strip()
    except CommandError:
        return "unknown"
    return f"{sha}-dirty" if dirty else sha


def _read_json(path: Path, produced_by: str) -> Any:
    if not path.exists():
        raise RegistrationError(f"{path}: not found; run `{produced_by}` (or `make run`) first")
    return json.loads(path.read_text(encoding="utf-8"))


def model_version(model_dir: Path, threshold: float) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    for name in (MODEL_FILE, CARD_FILE):
        digest.update((model_dir / name).read_bytes())
    digest.update(repr(threshold).encode())
    return digest.hexdigest()[:16]


def register(params: Params, *, commit: str | None = None) -> Registered:
    """Save `paths.model_dir` into the BentoML model store; refuse a model that failed the quality gate."""
    paths = params.paths
    model_dir = paths.model_dir
    if not (model_dir / MODEL_FILE).exists():
        raise RegistrationError(f"{model_dir / MODEL_FILE}: not found; run `dvc repro train` (or `make run`) first")
    card = _read_json(model_dir / CARD_FILE, "dvc repro train")
    metrics = _read_json(paths.metrics, "dvc repro evaluate")
    gate = _read_json(paths.quality_gate, "dvc repro evaluate")
    if not gate.get("passed"):
        raise RegistrationError(
            f"the model failed the quality gate ({paths.quality_gate}); fix it before it can be served"
        )
    threshold = params.evaluate.decision_threshold
    tag = bentoml.Tag(params.serve.model_name, model_version(model_dir, threshold))
    labels = {
        "data_md5": str(card["data_md5"]),
        "git_commit": commit or git_commit(),
        "model_type": str(card["model_type"]),
        "quality_gate": "passed",
        "sklearn_version": str(card["sklearn_version"]),
    }
    try:
        existing = bentoml.models.get(tag)
        return Registered(tag=str(existing.tag), created=False, labels=dict(existing.info.labels))
    except bentoml.exceptions.NotFound:
        pass  # a new model: stored below
    metadata = {
        "model_card": {key: value for key, value in card.items() if value is not None},  # BentoML refuses None
        "metrics": metrics,
        THRESHOLD_KEY: threshold,
        "train_params": params.train.model_dump(),
    }
    with bentoml.models.create(tag, labels=labels, metadata=metadata) as stored:
        for name in (MODEL_FILE, CARD_FILE):
            Path(stored.path_of(name)).write_bytes((model_dir / name).read_bytes())
    return Registered(tag=str(tag), created=True, labels=labels)


def load_registered(stored: Any) -> Predictor:
    """The Predictor of a model from the store (`bentoml.models.get(tag)` or a `BentoModel`),
    labelling with the threshold it was registered with and naming itself by its tag."""
    return Predictor.from_directory(
        Path(stored.path), threshold=float(stored.info.metadata[THRESHOLD_KEY]), version=str(stored.tag)
    )
