"""params.yaml is checked at start-up, with messages that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mlops_template.params import ParamsError, load_params


def write_params(tmp_path: Path, repo_root: Path, change: dict[str, dict[str, object]]) -> Path:
    data = yaml.safe_load((repo_root / "params.yaml").read_text())
    for section, values in change.items():
        data[section].update(values)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_repository_params_load(repo_root: Path) -> None:
    params = load_params(repo_root / "params.yaml")
    assert params.train.estimator_params()["max_iter"] == params.train.hist_gradient_boosting.max_iter


def test_a_wrong_value_is_named(tmp_path: Path, repo_root: Path) -> None:
    with pytest.raises(ParamsError, match=r"split\.test_size"):
        load_params(write_params(tmp_path, repo_root, {"split": {"test_size": 1.5}}))


def test_an_unknown_key_is_named(tmp_path: Path, repo_root: Path) -> None:
    with pytest.raises(ParamsError, match=r"train\.max_depht"):
        load_params(write_params(tmp_path, repo_root, {"train": {"max_depht": 3}}))


def test_an_unknown_model_type_lists_the_choices(tmp_path: Path, repo_root: Path) -> None:
    with pytest.raises(ParamsError, match="hist_gradient_boosting"):
        load_params(write_params(tmp_path, repo_root, {"train": {"model": "xgboost"}}))


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ParamsError, match="not found"):
        load_params(tmp_path / "params.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: [unclosed")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(bad)
