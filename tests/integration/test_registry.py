"""`mlops register`: the trained model enters the BentoML model store with its lineage."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import yaml

from mlops_template.model_files import CARD_FILE
from tests.integration.conftest import TrainedModel, tool


def stored(model: TrainedModel) -> dict[str, object]:
    name, version = model.tag.split(":")
    info: dict[str, object] = yaml.safe_load(
        (model.bentoml_home / "models" / name / version / "model.yaml").read_text()
    )
    return info


def test_the_stored_model_carries_data_hash_commit_params_and_metrics(trained_model: TrainedModel) -> None:
    info = stored(trained_model)
    paths = trained_model.params.paths
    card = json.loads((paths.model_dir / CARD_FILE).read_text())
    labels = info["labels"]
    metadata = info["metadata"]
    assert isinstance(labels, dict)
    assert isinstance(metadata, dict)
    assert labels["data_md5"] == card["data_md5"]
    assert labels["quality_gate"] == "passed"
    assert len(labels["git_commit"].removesuffix("-dirty")) == 40
    assert metadata["metrics"] == json.loads(paths.metrics.read_text())
    assert metadata["decision_threshold"] == trained_model.params.evaluate.decision_threshold
    assert metadata["train_params"] == trained_model.params.train.model_dump()
    assert metadata["model_card"] == {key: value for key, value in card.items() if value is not None}


def test_registering_the_same_model_again_changes_nothing(trained_model: TrainedModel) -> None:
    again = subprocess.run(
        [tool("mlops"), "register", "--params", str(trained_model.params_file)],
        env=trained_model.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert again.stdout.startswith(f"already registered {trained_model.tag}")


def test_a_model_that_failed_the_quality_gate_is_refused(trained_model: TrainedModel, tmp_path: Path) -> None:
    gate = json.loads(trained_model.params.paths.quality_gate.read_text())
    settings = yaml.safe_load(trained_model.params_file.read_text())
    settings["paths"]["quality_gate"] = str(tmp_path / "quality_gate.json")
    (tmp_path / "quality_gate.json").write_text(json.dumps(gate | {"passed": False}))
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(settings))
    home = tmp_path / "bentoml"
    shutil.copytree(trained_model.bentoml_home, home)
    shutil.rmtree(home / "models")
    env = trained_model.env() | {"BENTOML_HOME": str(home)}

    result = subprocess.run(
        [tool("mlops"), "register", "--params", str(params_file)], env=env, capture_output=True, text=True, check=False
    )

    assert result.returncode == 1
    assert "failed the quality gate" in result.stderr
    assert not (home / "models").exists() or not any((home / "models").rglob("model.yaml"))
