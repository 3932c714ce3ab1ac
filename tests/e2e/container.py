"""The container variant of the day (`make e2e CONTAINER=1`): the service is the image, pulled
from a local registry, as a cluster would run it.

The docker engine is the machine's when one answers, else a `dockerd` this run starts (its
socket in the run's folder, stopped with it); the registry is Debian's `docker-registry` on
127.0.0.1 (a registry on a loopback address needs no TLS). The image is built by the real
`make container` (BASE_IMAGE: python:3.11-slim, or a stand-in where Docker Hub is out of
reach, `make base-image-standin`), pushed, removed locally and pulled back before it runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from contextlib import ExitStack
from pathlib import Path

import yaml

from tests.e2e.world import StepError, World, wait_for
from tests.processes import free_port, running_server, stop_process_group
from tests.repos import REPO_ROOT

IMAGE = "mlops-template-service"
STANDIN = "local/bento-base:py3.11"


def docker(world: World, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], env=world.env, capture_output=True, text=True, timeout=timeout, check=False
    )


def start_engine(world: World) -> str:
    """A docker engine that answers: the machine's, or a dockerd started here."""
    if shutil.which("docker") is None or shutil.which("dockerd") is None:
        raise StepError("no docker/dockerd: `make container-tools` installs Debian's docker.io and docker-registry")
    if docker(world, "info").returncode == 0:
        return "the machine's docker engine"
    socket = world.root / "docker.sock"
    data_root = Path(os.environ.get("E2E_DOCKER_ROOT", "/var/lib/docker"))  # kept: the base image and layer cache
    command = [
        "dockerd",
        f"--host=unix://{socket}",
        f"--data-root={data_root}",
        f"--exec-root={world.root / 'docker-exec'}",
        f"--pidfile={world.root / 'docker.pid'}",
    ]
    world.env["DOCKER_HOST"] = f"unix://{socket}"
    world.stack.callback(_unmount_under, world.root / "docker-exec")  # runs after dockerd stopped (LIFO)
    with (world.logs / "dockerd.log").open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    world.stack.callback(stop_process_group, process)
    wait_for(lambda: process.poll() is None and docker(world, "info", timeout=10).returncode == 0, 60, "dockerd")
    return f"dockerd started here (data root {data_root})"


def _unmount_under(folder: Path) -> None:
    """dockerd leaves its network namespace mounted in its exec root when it stops: unmount what is left."""
    mounts = Path("/proc/mounts").read_text(encoding="utf-8").splitlines()
    for point in sorted((line.split()[1] for line in mounts if line.split()[1].startswith(str(folder))), reverse=True):
        subprocess.run(["umount", "--lazy", point], capture_output=True, check=False)


def start_registry(world: World) -> str:
    port = free_port()
    config = {
        "version": 0.1,
        "storage": {"filesystem": {"rootdirectory": str(world.root / "registry")}},
        "http": {"addr": f"127.0.0.1:{port}"},
    }
    (world.root / "registry.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    command = ["docker-registry", "serve", str(world.root / "registry.yml")]
    world.stack.enter_context(
        running_server(command, ready_url=f"http://127.0.0.1:{port}/v2/", log=world.logs / "registry.log", timeout_s=60)
    )
    return f"127.0.0.1:{port}"


def check_base_image(world: World, base: str) -> None:
    """The base image is here, or pullable, or the stand-in this repository knows how to build."""
    if docker(world, "image", "inspect", base).returncode == 0:
        return
    if base == STANDIN:
        world.make(REPO_ROOT, "base-image-standin")
        return
    pulled = docker(world, "pull", base)
    if pulled.returncode != 0:
        raise StepError(
            f"the base image {base} is neither present nor pullable ({pulled.stderr.strip()[-300:]}); where Docker "
            "Hub is out of reach, `make base-image-standin` builds local/bento-base:py3.11: pass it as BASE_IMAGE"
        )


def build_push_pull(world: World, repo: Path, registry: str, base: str) -> str:
    """`make container` in `repo`, pushed to the registry, removed here and pulled back: the image reference."""
    sha = world.run(repo, "git", "rev-parse", "--short=12", "HEAD").stdout.strip()
    name = f"{registry}/{IMAGE}"
    world.make(repo, "container", f"BASE_IMAGE={base}", f"IMAGE={name}", f"GIT_SHA={sha}")
    reference = f"{name}:{sha}"
    for args in (("push", reference), ("rmi", reference), ("pull", reference)):
        done = docker(world, *args)
        if done.returncode != 0:
            raise StepError(f"docker {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return reference


def run_container(world: World, reference: str, port: int, params_file: Path, s3_env: dict[str, str]) -> ExitStack:
    """The image as the Kubernetes manifests run it (uid 1034, read-only root), host network, log on S3."""
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    env = {**s3_env, "PORT": str(port), "MLOPS_PARAMS": "/etc/e2e/params.yaml", "BENTOML_HOME": "/tmp/bentoml"}
    env["MLOPS_INFERENCE_LOG_URL"] = world.env["MLOPS_INFERENCE_LOG_URL"]
    flags = [f"--env={key}={value}" for key, value in env.items()]
    started = docker(
        world, "run", "--detach", "--name", name, "--network", "host", "--user", "1034:1034", "--read-only",
        "--tmpfs", "/tmp", "--volume", f"{params_file}:/etc/e2e/params.yaml:ro", *flags, reference,
    )  # fmt: skip
    if started.returncode != 0:
        raise StepError(f"docker run {reference} failed: {started.stderr.strip()[-500:]}")
    service = world.stack.enter_context(ExitStack())
    service.callback(lambda: docker(world, "rm", "--force", name))

    def ready() -> bool:
        return docker(world, "exec", name, "true").returncode == 0 and _answers(f"http://127.0.0.1:{port}/readyz")

    try:
        wait_for(ready, 180, f"the container {name} to answer /readyz")
    except StepError:
        logs = docker(world, "logs", name)
        raise StepError(f"the container {name} never became ready:\n{(logs.stdout + logs.stderr)[-2000:]}") from None
    return service


def _answers(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (127.0.0.1)
            return bool(response.status == 200)
    except OSError:
        return False
