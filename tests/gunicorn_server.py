"""gunicorn serving the web app on a free local port: for the end-to-end tests and the API benchmark."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Server:
    base: str      # http://127.0.0.1:PORT
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if it has not ended within 20 s: a server or worker the test started."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn_server(database_url: str, var_dir: Path, *, app: str = "webui.app:create_app()",
                    ready_path: str = "/login", options: Sequence[str] = ("--workers", "2"),
                    secret: str = "gunicorn-test-secret", startup_seconds: float = 120.0) -> Iterator[Server]:
    """Starts gunicorn from this checkout, waits until `ready_path` answers 200 (`startup_seconds` at most: the CI
    machine has two cores and runs suites side by side; the benchmarks, with other work on the machine, allow
    more), stops it on leaving; its output is in `var_dir/gunicorn-PORT.log`. A server that does not come up raises
    RuntimeError with that log."""
    port = free_port()
    server = Server(f"http://127.0.0.1:{port}", Path(var_dir) / f"gunicorn-{port}.log")
    # This checkout's code, whichever checkout the virtualenv was installed from.
    python_path = os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))
    env = {**os.environ, "GONGKAI_DATABASE_URL": database_url, "GONGKAI_VAR_DIR": str(var_dir),
           "GONGKAI_SECRET_KEY": secret, "PYTHONPATH": python_path}
    with server.log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}", *options, app],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + startup_seconds
            while True:
                try:
                    if requests.get(server.base + ready_path, timeout=10).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start:\n{server.log()[-2000:]}")
                time.sleep(0.2)
            yield server
        finally:
            process.terminate()
            process.wait(timeout=20)
