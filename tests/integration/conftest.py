"""A served model for the service tests: trained by the real stages, registered, served.

The stages run in-process on a generated sample with every path in a temporary folder
(no DVC needed, nothing in the repository is touched); `mlops register` puts the model
into a throw-away BentoML home; `served` starts the real `bentoml serve` on 127.0.0.1.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from mlops_template import evaluate, prepare, split, train, validate
from mlops_template.data import ingest
from mlops_template.data.generate import write_csv
from mlops_template.params import Params, load_params
from tests.contract_data import raw_frame
from tests.processes import free_port, running_server

SERVICE = "mlops_template.serving.service:PredictionService"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Container tests build an image (minutes): they run only when selected (`make test-container`)."""
    if "container" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="builds and runs the service image (minutes): run it with `make test-container`")
    for item in items:
        if "container" in item.keywords:
            item.add_marker(skip)


START_TIMEOUT_S = 180


@dataclass(frozen=True)
class TrainedModel:
    folder: Path
    params_file: Path
    params: Params
    bentoml_home: Path
    tag: str

    def env(self) -> dict[str, str]:
        return os.environ | {
            "BENTOML_HOME": str(self.bentoml_home),
            "BENTOML_DO_NOT_TRACK": "true",
            "MLOPS_PARAMS": str(self.params_file),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }


def tool(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> TrainedModel:
    folder = tmp_path_factory.mktemp("served-model")
    write_csv(raw_frame(rows=6_000, seed=21), folder / "input.csv")  # any contract's data
    settings = yaml.safe_load((repo_root / "params.yaml").read_text(encoding="utf-8"))
    settings["data"]["input"] = str(folder / "input.csv")
    settings["data"]["extra_inputs"] = []  # this generated input only, whatever the repository has added
    settings["paths"] = {key: str(folder / value) for key, value in settings["paths"].items()}
    # Synthetic data, not the user's: their quality limits (set for their data) do not apply.
    settings["evaluate"] |= {"min_metrics": {}, "max_metrics": {}}
    settings["serve"]["workers"] = 1
    settings["serve"]["inference_log"] |= {"flush_seconds": 0.2, "url": str(folder / "logs" / "inference")}
    params_file = folder / "params.yaml"
    params_file.write_text(yaml.safe_dump(settings), encoding="utf-8")
    params = load_params(params_file)
    for stage in (ingest, validate, prepare, split, train, evaluate):
        stage.run(params)
    home = folder / "bentoml"
    model = TrainedModel(folder, params_file, params, home, tag="")
    result = subprocess.run(
        [tool("mlops"), "register", "--params", str(params_file)],
        env=model.env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    tag = result.stdout.split()[1]
    return TrainedModel(folder, params_file, params, home, tag)


@dataclass(frozen=True)
class Served:
    url: str
    model: TrainedModel
    log: Path


@contextmanager
def serving(model: TrainedModel, log: Path) -> Iterator[str]:
    """`bentoml serve` on a free 127.0.0.1 port until /readyz answers; stopped after."""
    port = free_port()
    command = [tool("bentoml"), "serve", SERVICE, "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with running_server(command, ready_url=f"{url}/readyz", log=log, env=model.env(), timeout_s=START_TIMEOUT_S):
        yield url


@pytest.fixture(scope="module")
def served(trained_model: TrainedModel, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The real service, started once per test module."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    with serving(trained_model, log) as url:
        yield Served(url, trained_model, log)
