"""A real S3 endpoint on 127.0.0.1 for the tests: moto's server (`moto_server`), which the
tests can stop and start again on the same port to make an outage.

moto keeps its buckets in memory: a restarted server starts empty, so a test creates its
bucket again after a restart (and checks what was written before the outage before it).
The credentials are moto's placeholders; s3fs and botocore find the endpoint through
AWS_ENDPOINT_URL, as a deployment would find a real one (or none: AWS itself).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3

from tests.processes import free_port, stop_process_group

READY_TIMEOUT_S = 30


class S3Server:
    """moto's S3 server on a fixed port; `env()` points s3fs and botocore at it."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_MAX_ATTEMPTS": "2",  # an outage shows in seconds, not after botocore's default retries
        }

    def start(self) -> None:
        moto = str(Path(sys.executable).with_name("moto_server"))
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [moto, "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"moto_server did not start:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None:
            stop_process_group(self.process)
            self.process = None

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1) as response:  # noqa: S310
                return bool(response.status == 200)
        except OSError:
            return False

    def client(self) -> Any:
        """boto3's S3 client on this server (credentials: `env()`, in the process environment)."""
        return boto3.client("s3", endpoint_url=self.endpoint)

    def make_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


@contextmanager
def s3_server(log: Path) -> Iterator[S3Server]:
    """A running moto S3 server, with the process environment pointing at it; stopped after."""
    server = S3Server(log)
    saved = {key: os.environ.get(key) for key in server.env()}
    os.environ.update(server.env())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _forget_s3_sessions()


def _forget_s3_sessions() -> None:
    """fsspec caches a filesystem per set of options, with its endpoint: the next server is another."""
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
