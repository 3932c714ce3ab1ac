"""The real parts of the day in the life, on 127.0.0.1, and the one way to run a step's command.

Every process started here is registered on one ExitStack and stopped by its own process
group id (tests/processes.py), on success, failure or Ctrl-C alike. Commands run in a clone
as a user would run them there (`make TARGET`), with this checkout's environment: the
clone's `make` is pointed at this `.venv` (VENV=…, its install step taken as done with
`-o`), and the clone's own source comes first on the import path (tests/repos.py does the same).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from importlib.metadata import version
from pathlib import Path

from tests.processes import running_server, stop_process_group
from tests.repos import REPO_ROOT
from tests.workflows.act import STANDINS

VENV = Path(sys.executable).parent.parent
SERVICE = "mlops_template.serving.service:PredictionService"
REPOSITORY = "acme/mlops-template"
COMMAND_TIMEOUT_S = 600


class StepError(RuntimeError):
    """A step of the day did not do what it must; the message says what was seen."""


def component_versions() -> dict[str, str]:
    """The real components, named with their versions (Prometheus: Debian's package)."""
    prometheus = subprocess.run(["prometheus", "--version"], capture_output=True, text=True, check=True)
    first = (prometheus.stdout or prometheus.stderr).splitlines()[0]
    return {
        "moto (S3 server)": version("moto"),
        "prometheus": first.split("version", 1)[1].split()[0],
        "bentoml": version("bentoml"),
        "dvc": version("dvc"),
        "dvc-s3": version("dvc-s3"),
    }


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise StepError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.3)


class World:
    """Folders, the environment every command shares, and the processes to stop."""

    def __init__(self, root: Path, s3_env: Mapping[str, str], stack: ExitStack) -> None:
        self.root = root
        self.stack = stack
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.github = root / "github"
        # this checkout's uv too (make bootstrapped it into .tools when none was on PATH): `make bento` exports with it
        tools = [str(REPO_ROOT / ".tools" / "bin")] if (REPO_ROOT / ".tools" / "bin" / "uv").exists() else []
        path = os.pathsep.join([str(VENV / "bin"), *tools, str(STANDINS / "gh"), os.environ["PATH"]])
        self.env = (
            dict(os.environ)
            | dict(s3_env)
            | {
                "PATH": path,
                "BENTOML_HOME": str(root / "bentoml"),
                "BENTOML_DO_NOT_TRACK": "true",
                "FAKE_GITHUB_DIR": str(self.github),  # the GitHub stand-in: `gh` records here
                "GITHUB_REPOSITORY": REPOSITORY,
                "GH_TOKEN": "fake",
                "GIT_AUTHOR_NAME": "e2e",
                "GIT_AUTHOR_EMAIL": "e2e@example.test",
                "GIT_COMMITTER_NAME": "e2e",
                "GIT_COMMITTER_EMAIL": "e2e@example.test",
            }
        )
        for key in ("VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE", "MAKEFLAGS", "MAKELEVEL", "MFLAGS"):
            self.env.pop(key, None)
        self.command_count = 0

    def run(
        self, cwd: Path, *args: str, expect: tuple[int, ...] = (0,), extra: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in `cwd`, print it, keep its output in logs/; a return code not in `expect` fails the step."""
        self.command_count += 1
        env = self.env | {"PYTHONPATH": str(cwd / "src")} | dict(extra or {})
        shown = " ".join(args)
        print(f"    $ {shown}   (in {cwd.name}/)", flush=True)
        # A process group of its own, stopped whole (make, dvc and the stages under it) if the run is interrupted.
        process = subprocess.Popen(
            args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            stdout, stderr = process.communicate(timeout=COMMAND_TIMEOUT_S)
        except BaseException:
            stop_process_group(process)
            raise
        result = subprocess.CompletedProcess(args, process.returncode, stdout, stderr)
        log = self.logs / f"{self.command_count:02d}-{args[0].rsplit('/', 1)[-1]}.log"
        log.write_text(f"$ {shown}\n{result.stdout}\n--- stderr ---\n{result.stderr}", encoding="utf-8")
        if result.returncode not in expect:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-25:])
            raise StepError(f"`{shown}` exited {result.returncode} (expected {expect}); full output {log}:\n{tail}")
        return result

    def make(
        self,
        cwd: Path,
        target: str,
        *variables: str,
        expect: tuple[int, ...] = (0,),
        extra: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """`make TARGET` in a clone, with this checkout's installed environment."""
        installed = VENV / "bin" / ".installed"
        return self.run(
            cwd, "make", "--no-print-directory", f"VENV={VENV}", "-o", str(installed), target, *variables,
            expect=expect, extra=extra,
        )  # fmt: skip

    def serve(self, cwd: Path, port: int, params_file: Path, name: str) -> ExitStack:
        """The real `bentoml serve` of the model registered last, until /readyz answers; stopped with the
        world, or earlier by closing the stack returned."""
        command = [str(VENV / "bin" / "bentoml"), "serve", SERVICE, "--host", "127.0.0.1", "--port", str(port)]
        env = self.env | {"PYTHONPATH": str(cwd / "src"), "MLOPS_PARAMS": str(params_file)}
        url = f"http://127.0.0.1:{port}"
        service = self.stack.enter_context(ExitStack())
        service.enter_context(
            running_server(command, ready_url=f"{url}/readyz", log=self.logs / f"{name}.log", env=env, cwd=cwd)
        )
        return service

    def prometheus(self, target: str, port: int) -> str:
        """Debian's Prometheus scraping `target` every second, with the repository's alert rules loaded."""
        import yaml

        folder = self.root / "prometheus"
        folder.mkdir(exist_ok=True)
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(REPO_ROOT / "deploy" / "monitoring" / "alert-rules.yaml")],
            "scrape_configs": [{"job_name": "service", "static_configs": [{"targets": [target]}]}],
        }
        (folder / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
        url = f"http://127.0.0.1:{port}"
        command = [
            "prometheus",
            f"--config.file={folder / 'prometheus.yml'}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ]
        self.stack.enter_context(
            running_server(command, ready_url=f"{url}/-/ready", log=self.logs / "prometheus.log", timeout_s=60)
        )
        return url
