"""The real pipeline: `dvc repro` in a temporary git repository made from this one.

One repository is reproduced once; every test that changes something works on its own
copy of it (outputs and DVC cache included), so the tests do not depend on each other.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from tests.example import example_only
from tests.repos import clone_tracked_files, run

pytestmark = [pytest.mark.slow, example_only]

STAGES = ("ingest", "validate", "prepare", "split", "train", "evaluate")
OUTPUTS = (
    "data/raw/records.csv",
    "data/prepared/records.parquet",
    "data/split/train.parquet",
    "data/split/test.parquet",
    "models/model",
)
DOWNSTREAM = ("data/prepared", "data/split", "models", "metrics", "plots", "reports/validation/prepared.json")


def stages_run(output: str) -> set[str]:
    return {stage for stage in STAGES if f"Running stage '{stage}'" in output}


def fingerprint(repo: Path, relative: str) -> dict[str, str]:
    root = repo / relative
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(repo)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


def copy_of(repo: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(repo, target, symlinks=True)
    return target


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> tuple[Path, str]:
    """A clone with no outputs at all, no DVC cache and no remote, reproduced once."""
    repo = clone_tracked_files(tmp_path_factory.mktemp("pipeline") / "repo", repo_root)
    return repo, run(repo, "dvc", "repro").stdout


def test_a_fresh_clone_without_a_remote_runs_every_stage(reproduced: tuple[Path, str]) -> None:
    repo, output = reproduced
    assert stages_run(output) == set(STAGES)
    assert (repo / "models/model/model.joblib").exists()
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    assert set(lock["stages"]) == set(STAGES)
    raw_out = lock["stages"]["ingest"]["outs"][0]
    assert raw_out["path"] == "data/raw/records.csv"
    raw = (repo / "data/raw/records.csv").read_bytes()
    assert raw_out["md5"] == hashlib.md5(raw).hexdigest()  # noqa: S324
    sample = (repo / "data/sample/customers.csv").read_bytes()
    extras = yaml.safe_load((repo / "params.yaml").read_text())["data"]["extra_inputs"]
    # data.input byte for byte, then the rows of each extra input (retraining's labelled batches)
    assert raw == sample if not extras else raw.startswith(sample) and len(raw) > len(sample)


def test_a_second_repro_does_nothing(reproduced: tuple[Path, str], tmp_path: Path) -> None:
    repo = copy_of(reproduced[0], tmp_path)
    lock = (repo / "dvc.lock").read_bytes()
    result = run(repo, "dvc", "repro")
    assert stages_run(result.stdout) == set()
    assert "Data and pipelines are up to date" in result.stdout
    assert (repo / "dvc.lock").read_bytes() == lock


def test_changing_a_hyper_parameter_reruns_only_train_and_evaluate(
    reproduced: tuple[Path, str], tmp_path: Path
) -> None:
    repo = copy_of(reproduced[0], tmp_path)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["train"]["hist_gradient_boosting"]["max_iter"] += 10
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    result = run(repo, "dvc", "repro")
    assert stages_run(result.stdout) == {"train", "evaluate"}


def test_the_pipeline_from_scratch_reproduces_the_committed_lock(reproduced: tuple[Path, str], repo_root: Path) -> None:
    """The clone started with no outputs and no cache, so this is a run from scratch on another
    checkout: every hash (data, model, metrics) must equal what is committed."""
    repo, _ = reproduced
    assert (repo / "dvc.lock").read_text() == (repo_root / "dvc.lock").read_text(), (
        "dvc.lock differs from a run from scratch: run `make run` and commit dvc.lock, "
        "or find what makes the pipeline non-deterministic"
    )


def test_bad_data_stops_at_the_gate_and_leaves_everything_downstream_untouched(
    reproduced: tuple[Path, str], tmp_path: Path
) -> None:
    repo = copy_of(reproduced[0], tmp_path)
    before = {path: fingerprint(repo, path) for path in DOWNSTREAM}
    lock = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    sample = repo / "data/sample/customers.csv"
    sample.write_text(sample.read_text().replace(",two_year,", ",two-years-plus,"))
    result = run(repo, "dvc", "repro", check=False)
    assert result.returncode != 0
    assert stages_run(result.stdout) == {"ingest", "validate"}
    assert "the data gate failed" in result.stderr
    assert "| contract | `category_of` | unknown category" in result.stderr
    assert {path: fingerprint(repo, path) for path in DOWNSTREAM} == before
    after = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    assert after["ingest"] != lock["ingest"]  # the new raw data was ingested: that stage succeeded
    assert {s: after[s] for s in STAGES[1:]} == {s: lock[s] for s in STAGES[1:]}
    assert "❌ failed" in (repo / "reports/validation/raw.md").read_text()


def test_push_and_pull_through_a_local_directory_remote(reproduced: tuple[Path, str], tmp_path: Path) -> None:
    repo = copy_of(reproduced[0], tmp_path)
    model = fingerprint(repo, "models")
    run(repo, "dvc", "remote", "add", "--default", "storage", str(tmp_path / "remote"))
    run(repo, "dvc", "push")
    for path in (".dvc/cache", *OUTPUTS):
        remove(repo / path)
    run(repo, "dvc", "pull")
    assert fingerprint(repo, "models") == model
    assert "Data and pipelines are up to date" in run(repo, "dvc", "status").stdout


def make(repo: Path, target: str) -> tuple[int, str]:
    """`make TARGET` in the clone with this environment (its install step taken as done)."""
    venv = Path(sys.executable).parent.parent
    result = run(
        repo,
        "make",
        "--no-print-directory",
        f"VENV={venv}",
        "-o",
        str(venv / "bin" / ".installed"),
        target,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def test_check_model_passes_on_the_committed_model_and_stops_a_different_one(
    reproduced: tuple[Path, str], tmp_path: Path
) -> None:
    repo = copy_of(reproduced[0], tmp_path)
    code, said = make(repo, "check-model")
    assert code == 0, said
    model_dir = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))["paths"]["model_dir"]
    model = repo / model_dir / "model.joblib"
    model.write_bytes(model.read_bytes() + b"\0")  # a rebuilt model that is not the reviewed one
    code, said = make(repo, "check-model")
    assert code != 0
    assert "the built model does not match the hash in the committed dvc.lock" in said
    run(repo, "dvc", "commit", "--force", "train")  # dvc.lock now records the other model: not what was committed
    code, said = make(repo, "check-model")
    assert code != 0
    assert "dvc.lock differs from the commit's" in said
