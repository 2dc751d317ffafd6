"""Small network helpers shared by tests that start real servers (loopback only)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
import urllib.error
import urllib.request


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, timeout_s: float = 30.0, ok: tuple[int, ...] = (200,)) -> None:
    """Wait until ``url`` answers with one of the ``ok`` statuses."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status in ok:
                    return
        except urllib.error.HTTPError as e:
            if e.code in ok:
                return
            time.sleep(0.1)
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout_s} s")


@contextlib.contextmanager
def running_demo(data_dir, duration_s: float, *extra: str):
    """A real ``runform demo`` process on a free port (seed 5, no browser), recording into
    ``data_dir``; yields (port, process) once /api/status answers, and stops it afterwards.
    Its output goes to ``data_dir/demo.log`` (a pipe nobody reads could fill and block it)."""
    port = free_port()
    log_path = Path(data_dir) / "demo.log"
    with open(log_path, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "runform", "demo", "--no-browser", "--port", str(port), "--duration", str(duration_s),
             "--seed", "5", "--data-dir", str(data_dir), *extra],
            stdout=out, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            wait_for_http(f"http://127.0.0.1:{port}/api/status")
            yield port, proc
        finally:
            stop_process(proc)


def stop_process(proc: subprocess.Popen, timeout_s: float = 10.0) -> None:
    """Stop a server process started by a test: SIGTERM (a clean shutdown), SIGKILL if it has not
    exited within ``timeout_s``."""
    proc.terminate()
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:  # pragma: no cover
        proc.kill()
