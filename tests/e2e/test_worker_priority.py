"""The background worker runs below the web's CPU priority (GONGKAI_WORKER_NICE, 10 by default): `gongkai worker`
and the runner `gongkai serve` starts. Rendering receipts and exports yields the CPU to the requests, one of which
holds its agency's number counter until it commits (issue 14)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.persistence import db as dbmod
from tests.gunicorn_server import free_port, stop_process

ROOT = Path(__file__).resolve().parents[2]
GONGKAI = str(Path(sys.executable).parent / "gongkai")
BASE = os.nice(0)  # this process's own niceness: a worker's is counted from it


def _niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _env(tmp_path: Path, **extra: str) -> dict:
    url = f"sqlite:///{tmp_path / 'gongkai.sqlite3'}"
    dbmod.upgrade(url)
    env = {k: v for k, v in os.environ.items() if k not in ("GONGKAI_REDIS_URL", "GONGKAI_WORKER_NICE")}
    return {**env, "GONGKAI_DATABASE_URL": url, "GONGKAI_VAR_DIR": str(tmp_path), "GONGKAI_SECRET_KEY": "e2e",
            **extra}


def _settles(read, expected: int, seconds: float = 30) -> int:
    """`read()` once it equals `expected` (the process lowers its priority after it has started), or the last."""
    deadline = time.monotonic() + seconds
    value = read()
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.2)
        value = read()
    return value


@pytest.mark.parametrize(("setting", "lowered_by"), [(None, 10), ("0", 0), ("19", 19)])
def test_gongkai_worker_lowers_its_cpu_priority_by_the_setting(tmp_path, setting, lowered_by):
    extra = {} if setting is None else {"GONGKAI_WORKER_NICE": setting}
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen([GONGKAI, "worker"], cwd=ROOT, env=_env(tmp_path, **extra),
                                  stdout=subprocess.DEVNULL, stderr=out)
        try:
            expected = min(BASE + lowered_by, 19)
            assert _settles(lambda: _niceness(worker.pid), expected) == expected
            assert worker.poll() is None
        finally:
            stop_process(worker)
    assert (f"nice {expected}" in log.read_text()) == (expected > BASE)


def test_a_worker_nice_outside_0_to_19_is_refused_in_chinese(tmp_path):
    done = subprocess.run([GONGKAI, "worker"], cwd=ROOT, env=_env(tmp_path, GONGKAI_WORKER_NICE="20"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("错误：GONGKAI_WORKER_NICE（worker_nice）应为 0 至 19 的整数")
    assert "Traceback" not in done.stderr


def test_the_runner_gongkai_serve_starts_runs_below_the_web_process(tmp_path):
    port = free_port()
    server = subprocess.Popen([GONGKAI, "serve", "--port", str(port)], cwd=ROOT, env=_env(tmp_path),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        lowered = min(BASE + 10, 19)

        def runner_niceness() -> int:
            # the spawned runner: a child of the server that is not multiprocessing's resource tracker
            runners = [pid for pid in _children(server.pid)
                       if "resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")]
            return _niceness(runners[0]) if runners else -1

        assert _settles(runner_niceness, lowered) == lowered
        assert _niceness(server.pid) == BASE
    finally:
        stop_process(server)
