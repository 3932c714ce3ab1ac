"""The trained model on disk: a scikit-learn Pipeline plus a JSON card of its lineage.

Train writes them, evaluate and the service read them; `mlops register` (the service
issue) copies both into the BentoML model store with the card as labels and metadata.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import joblib
from sklearn.pipeline import Pipeline

from mlops_template.files import write_json, write_with

MODEL_FILE = "model.joblib"
CARD_FILE = "model_card.json"


@dataclass(frozen=True)
class ModelCard:
    """What a deployed model must be able to say about itself."""

    model_type: str
    hyperparameters: dict[str, Any]
    features: list[str]
    target: str
    data_md5: str  # DVC's hash of the raw data the model was trained on
    train_rows: int
    train_positive_rate: float | None  # a binary target's share of the positive label, else None
    sklearn_version: str
    task: str = "binary"  # binary | multiclass | regression (the target's constructor in schema.py)
    labels: list[str] = field(default_factory=list)  # binary: [negative, positive]; multi-class: the model's classes


def save_model(directory: Path, model: Pipeline, card: ModelCard) -> None:
    write_with(directory / MODEL_FILE, lambda tmp: joblib.dump(model, tmp, compress=3))
    write_json(directory / CARD_FILE, asdict(card))


def load_model(directory: Path) -> tuple[Pipeline, ModelCard]:
    path = directory / MODEL_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path}: no trained model; run `dvc repro` (or `make run`) first")
    card = ModelCard(**json.loads((directory / CARD_FILE).read_text(encoding="utf-8")))
    return joblib.load(path), card
