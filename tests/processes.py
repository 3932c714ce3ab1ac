"""Stopping servers started for tests and benchmarks: the whole process group, politely first."""

from __future__ import annotations

import os
import signal
import subprocess


def stop_process_group(process: subprocess.Popen[bytes] | subprocess.Popen[str], timeout_s: float = 30) -> None:
    """SIGTERM the group `process` leads (started with start_new_session=True), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
