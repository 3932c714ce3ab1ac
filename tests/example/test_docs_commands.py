"""The docs' commands work as written, and their links lead somewhere.

Every command in a fenced `sh`/`bash`/`shell`/`console` block of README.md, docs/*.md and a
folder's README.md is either run here, in a fresh copy of the working tree (the tracked
files and the committed outputs, as `git clone` gives them), or listed in NOT_RUN with the
reason it cannot run here. A command in neither list fails the test, so a new page cannot
add a command nobody tried; an entry no page uses any more fails too.

A command runs as written unless running it for real would need minutes or what this
machine has not (a cluster, a registry, GitHub, a running service): then it runs in a form
that still checks what it can (`make -n`: the target exists and its variables parse;
`--help`: the command and its options exist), and the reason is written beside it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.example import example_only
from tests.repos import REPO_ROOT, clone_tracked_files

pytestmark = example_only

VENV = Path(sys.executable).parent.parent
SHELL_LANGUAGES = {"sh", "bash", "shell", "console"}
FENCE = re.compile(r"^\s*```(\S*)")

# Run exactly as the docs write them.
AS_WRITTEN = (
    "mlops --help",
    "dvc status",
    "dvc metrics show",
    "mlops validate --input data/sample/customers.csv",
    "dvc remote add --default storage s3://my-bucket/mlops-template",
    "head -3000 data/sample/customers.csv > export.csv",
    "python -m benchmarks.gate_throughput --help",
    "python -m benchmarks.drift_speed --help",
    "python -m tests.workflows.act --help",
    "kubectl kustomize deploy/overlays/staging",
    "pytest tests/code/test_params.py -q",
)

MAKE_DRY_RUN_SLOW = "make -n: running it for real takes minutes"
NEEDS_OUTPUTS = "make -n: needs `make run`'s outputs (a trained model), which take minutes to build here"

# make targets run as `make -n ...` (the rest of the command as written), and why.
MAKE_DRY_RUN = {
    "make run": MAKE_DRY_RUN_SLOW + "; tests/example/test_dvc_pipeline.py runs the real dvc repro",
    "make test": "make -n: it is the suite this test is part of",
    "make test-fast": "make -n: it is the suite this test is part of",
    "make test-swap": "make -n: the whole suite again in a swapped clone (minutes); "
    "tests/integration/test_bring_your_own_dataset.py swaps each dataset",
    "make lint": "make -n: ruff and mypy over a fresh copy take half a minute; `make test` runs it",
    "make test-datasets": "make -n: a dataset per task swapped in (minutes); "
    "tests/integration/test_bring_your_own_dataset.py",
    "make test-workflows": MAKE_DRY_RUN_SLOW + " (workflows under act)",
    "make test-container": "make -n: needs a docker engine; tests/integration/test_container.py",
    "make test-container BASE_IMAGE=local/bento-base:py3.11": "make -n: needs a docker engine",
    "make bench": MAKE_DRY_RUN_SLOW + " and writes benchmarks/results/",
    "make bench-drift": MAKE_DRY_RUN_SLOW + " and writes benchmarks/results/",
    "make bench-serving": MAKE_DRY_RUN_SLOW + " (and needs `hey`)",
    "make ci-lint": "make -n: tests/workflows/test_workflow_lint.py runs it for real",
    "make ci-local": MAKE_DRY_RUN_SLOW + " (workflows under act)",
    "make drift": NEEDS_OUTPUTS + "; tests/example/test_drift_cases.py runs `mlops drift` end to end",
    "make report": NEEDS_OUTPUTS + "; tests/example/test_pr_report.py builds the report",
    "REPORT_BASE=HEAD~1 make report": NEEDS_OUTPUTS,
    "make report-check": NEEDS_OUTPUTS,
    "make serve": NEEDS_OUTPUTS + ", and serves until stopped; tests/integration/test_service.py",
    "make bento-model": NEEDS_OUTPUTS + "; tests/integration/test_registry.py",
    "make container": "make -n: needs a docker engine and a trained model",
    "make smoke URL=http://127.0.0.1:3000": "make -n: needs a running service; tests/integration/test_service.py",
    "make smoke URL=https://staging.example.com": "make -n: needs a deployed service",
    "make release ENV=staging IMAGE_REF=$(cat build/image-ref) MODEL_VERSION=$(cat build/model-version)": (
        "make -n: needs a cluster and a pushed image; tests/code/test_deploy.py releases against the kubectl stand-in"
    ),
    "make promote IMAGE_REF=$(cat build/image-ref) MODEL_VERSION=$(cat build/model-version)": (
        "make -n: needs GitHub; tests/code/test_deploy.py opens the pull request on the fake GitHub"
    ),
    "make release ENV=production": "make -n: needs a cluster; tests/workflows/test_deploy_workflow.py",
    "make rollback ENV=production": "make -n: needs a cluster; tests/code/test_deploy.py",
    "make e2e": MAKE_DRY_RUN_SLOW + " (a day in the life: three trainings); tests/e2e/ (marker e2e) runs it",
    "make e2e OUTAGE=1": MAKE_DRY_RUN_SLOW + "; tests/e2e/test_day_in_the_life.py runs it with --outage",
    "make e2e CONTAINER=1 BASE_IMAGE=local/bento-base:py3.11": MAKE_DRY_RUN_SLOW + " (two image builds, docker engine)",
    "make push-data": "make -n: needs a DVC remote and `make run`'s outputs; `make e2e` pushes to an S3 remote",
    "make pull": "make -n: needs a DVC remote; `make e2e` pulls from an S3 remote in a fresh clone",
    "make check-monitoring": (
        "make -n: it installs Debian's prometheus when missing (root, apt); "
        "tests/integration/test_monitoring.py runs the same promtool commands"
    ),
}

# Commands run in another form, and why.
REWRITTEN = {
    "source .venv/bin/activate": (
        "source {venv}/bin/activate && command -v mlops dvc bentoml pytest",
        "the copy has no .venv of its own (make install builds one in minutes): this test's is activated",
    ),
    "dvc repro": (
        "dvc dag",  # `dvc repro --dry` fails on a fresh clone: it hashes the raw file ingest has not written
        "the stages it runs; the real run is `make run`'s (tests/example/test_dvc_pipeline.py)",
    ),
    "mlops drift --current exports/2026-11.csv": (
        "mlops drift --help",
        "an example path; needs a trained model (tests/example/test_drift_cases.py)",
    ),
    "mlops drift --source inference_log": (
        "mlops drift --help",
        "needs a trained model and a service's log (tests/example/test_drift_cases.py)",
    ),
    "mlops labelled-batch --out data/labelled/2026-12-01.parquet": (
        "mlops labelled-batch --help",
        "needs a service's log and delayed labels; tests/example/test_labels.py runs it on both",
    ),
}

# Not run at all: a pattern over the command (matched whole), and why.
NOT_RUN = {
    r"curl -s localhost:3000/.*": "needs `make serve` running; tests/integration/test_service.py sends these requests",
    r"bentoml models get model:latest": "needs a registered model; tests/integration/test_registry.py",
    r"kubectl apply -f deploy/setup/deployer\.yaml": (
        "needs a cluster and its admin; tests/code/test_deploy.py validates the file and the rights it grants"
    ),
    r"kubectl (get secret mlops-deployer-token|config --kubeconfig deployer\.kubeconfig) .*": (
        "needs a cluster with deploy/setup/deployer.yaml applied"
    ),
    r"aws eks create-access-entry .*": "needs an AWS account and an EKS cluster",
    r"gh variable set .*|base64 -w0 deployer\.kubeconfig \| gh secret set .*": "needs a GitHub repository",
}


def doc_pages() -> list[Path]:
    """README.md, docs/*.md and the README.md of each folder."""
    return [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md")), *sorted(REPO_ROOT.glob("*/README.md"))]


def shell_commands(text: str) -> Iterator[tuple[str, str]]:
    """(key, source) of each command in the page's shell blocks: `source` is the text a reader
    pastes (continuation lines and multi-line quotes included), `key` its words with every run
    of white space made one space, comments dropped. Lines starting with `#` are comments or expected output;
    in a `console` block only lines starting with `$ ` are commands."""
    language: str | None = None
    pending = ""
    for text_line in text.splitlines():
        line = text_line
        fence = FENCE.match(line)
        if fence:
            language = None if language is not None else fence.group(1)
            pending = ""
            continue
        if language not in SHELL_LANGUAGES:
            continue
        if not pending:
            if language == "console":
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            if not line.strip() or line.lstrip().startswith("#"):
                continue
        pending = f"{pending}\n{line}" if pending else line
        if pending.rstrip().endswith("\\"):
            continue
        try:
            words = shlex.split(pending.replace("\\\n", " "), comments=True)
        except ValueError:  # a quote still open: the command goes on on the next line
            continue
        yield " ".join(" ".join(words).split()), pending
        pending = ""
    assert not pending, f"a command that never ends: {pending!r}"


def documented_commands() -> dict[str, tuple[str, str]]:
    """Every documented command, once: key -> (page, source), in reading order."""
    found: dict[str, tuple[str, str]] = {}
    for page in doc_pages():
        for key, source in shell_commands(page.read_text(encoding="utf-8")):
            found.setdefault(key, (str(page.relative_to(REPO_ROOT)), source))
    return found


def not_run_reason(key: str) -> str | None:
    return next((reason for pattern, reason in NOT_RUN.items() if re.fullmatch(pattern, key)), None)


def test_the_parser_reads_continuations_quotes_and_console_prompts() -> None:
    text = (
        "```sh\nmake a   # why\n# output\ncurl -d '{\n  \"x\": 1}'\nrun \\\n  --flag\n```\n"
        "```console\n$ mlops --help\nUsage: mlops\n```\n```python\nprint(1)\n```\n```\nplain\n```\n"
    )
    assert [key for key, _ in shell_commands(text)] == ["make a", 'curl -d { "x": 1}', "run --flag", "mlops --help"]


def test_every_documented_command_is_run_or_listed_with_a_reason() -> None:
    documented = documented_commands()
    assert "make run" in documented, "the README's first command"
    assert "make test" in documented, "the README's second command"
    listed = set(AS_WRITTEN) | set(MAKE_DRY_RUN) | set(REWRITTEN)
    neither = [
        f"{page}: {key}" for key, (page, _) in documented.items() if key not in listed and not not_run_reason(key)
    ]
    assert not neither, "run these here or list them with a reason:\n" + "\n".join(neither)
    stale = sorted(listed - set(documented)) + [p for p in NOT_RUN if not any(re.fullmatch(p, k) for k in documented)]
    assert not stale, f"listed but in no page any more: {stale}"
    for reason in [*MAKE_DRY_RUN.values(), *(r for _, r in REWRITTEN.values()), *NOT_RUN.values()]:
        for path in re.findall(r"tests/[\w/]+\.py", reason):
            assert (REPO_ROOT / path).is_file(), f"{reason!r} names {path}, which does not exist"
    for key in MAKE_DRY_RUN:
        assert re.match(r"(\w+=\S+ )*make \S", key), f"not a make command: {key}"


def runnable() -> list[tuple[str, str]]:
    """(key, what runs), in the order the pages give them (a remote is added before it is used)."""
    plan: list[tuple[str, str]] = []
    for key, (_, source) in documented_commands().items():
        if key in AS_WRITTEN:
            plan.append((key, source))
        elif key in MAKE_DRY_RUN:
            plan.append((key, re.sub(r"\bmake ", "make -n ", source, count=1)))
        elif key in REWRITTEN:
            plan.append((key, REWRITTEN[key][0].format(venv=VENV)))
    return plan


@pytest.fixture(scope="module")
def fresh_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clone_tracked_files(tmp_path_factory.mktemp("docs") / "repo", committed_outputs=True)


@pytest.mark.slow
@pytest.mark.parametrize(("key", "command"), runnable(), ids=[key[:60] for key, _ in runnable()])
def test_documented_command_works(fresh_copy: Path, key: str, command: str) -> None:
    if key.startswith("kubectl ") and shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed here (tests/code/test_deploy.py skips without it too)")
    env = {
        k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS", "PYTHONDONTWRITEBYTECODE"}
    }
    env |= {
        "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(VENV),
        "PYTHONPATH": str(fresh_copy / "src"),  # the installed package points at the original checkout
    }
    result = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", command],
        cwd=fresh_copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, (
        f"{command}\nexit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )


LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.M | re.S)
    return {github_anchor(m) for m in re.findall(r"^#+ (.+)$", text, flags=re.M)}


def written_by_a_benchmark(target: Path) -> bool:
    """benchmarks/results/<script>.md need not be committed: benchmarks/<script>.py writes it."""
    if target.parent != REPO_ROOT / "benchmarks" / "results":
        return False
    script = REPO_ROOT / "benchmarks" / f"{target.stem}.py"
    return script.is_file() and f'write_results("{target.stem}"' in script.read_text(encoding="utf-8")


def test_every_relative_link_leads_to_a_file_and_heading() -> None:
    broken = []
    for page in doc_pages():
        text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.M | re.S)
        for link in LINK.findall(text):
            if re.match(r"[a-z]+:", link):
                continue
            path, _, anchor = link.partition("#")
            target = (page.parent / path).resolve() if path else page
            where = f"{page.relative_to(REPO_ROOT)}: {link}"
            if not target.exists() and not written_by_a_benchmark(target):
                broken.append(f"{where} (no such file)")
            elif anchor and target.suffix == ".md" and target.exists() and anchor not in anchors(target):
                broken.append(f"{where} (no such heading)")
    assert not broken, "\n".join(broken)


def test_the_link_check_can_fail(tmp_path: Path) -> None:
    assert github_anchor("DVC remote over OIDC (no long-lived keys)") == "dvc-remote-over-oidc-no-long-lived-keys"
    assert not written_by_a_benchmark(REPO_ROOT / "benchmarks" / "results" / "no_such_script.md")
    page = tmp_path / "page.md"
    page.write_text("# Only heading\n\n```sh\n# Not a heading\n```\n", encoding="utf-8")
    assert anchors(page) == {"only-heading"}
