"""`make test-swap`: the whole test suite in a clone whose dataset is swapped.

The promise under test: with only `schema.py` and `params.yaml` changed, `make test` passes.
This makes a clone of the tracked files (tests/repos.py), copies in a contract and data of
tests/integration/byod/ (one per task, scikit-learn's bundled data), edits params.yaml as a
user would, checks that nothing else changed, and runs `make test` inside the clone. Tests
about the example dataset skip themselves there, saying why (tests/example/).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from tests.integration.byod.datasets import DATASETS
from tests.repos import REPO_ROOT, clone_tracked_files


def swap(repo: Path, task: str) -> None:
    dataset = DATASETS[task]
    shutil.copy(dataset.schema, repo / "src/mlops_template/schema.py")
    dataset.write(repo)
    params = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))
    (repo / "params.yaml").write_text(yaml.safe_dump(dataset.edit_params(params), sort_keys=False), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("task", nargs="?", default="regression", choices=sorted(DATASETS))
    parser.add_argument("--keep", action="store_true", help="keep the clone (its path is printed)")
    parser.add_argument("make_args", nargs="*", help="extra arguments for make, e.g. PYTEST_WORKERS=2")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix=f"test-swap-{args.task}-"))
    repo = clone_tracked_files(folder / "repo", REPO_ROOT)
    swap(repo, args.task)
    uv = REPO_ROOT / ".tools/bin/uv"
    extra = [f"UV={uv}"] if uv.exists() else []
    print(f"swapped in the {args.task} dataset: {repo}", flush=True)
    code = subprocess.run(["make", "test", *extra, *args.make_args], cwd=repo, check=False).returncode
    if not args.keep and code == 0:
        shutil.rmtree(folder, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
