"""Several machines, one PostgreSQL, one Redis: two gunicorn nodes (each with its own var/ directory) and two
`gongkai worker` processes plus one `gongkai scheduler`. A year's export started on node A survives the worker
running it being killed with SIGKILL, finishes exactly once on the other worker, and downloads from node B;
the public status lookup's limit holds across both nodes; login lock-outs count across nodes; a job created
while Redis is down is written first in PostgreSQL and runs once Redis is back.

Redis here is a private `redis-server` on a free port (stopped and started by the test), so nothing touches
the machine's Redis or another run's keys.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from engine.config import load_settings
from engine.persistence.models import Job
from tests.conftest import PASSWORD
from tests.e2e.test_gunicorn_web import Browser
from tests.gunicorn_server import free_port, gunicorn_server
from tests.integration.test_archive_export import make_archived_case
from webui.archive_export.verify import verify_case_zip

pytestmark = [pytest.mark.postgres, pytest.mark.cluster, pytest.mark.slow]
BIN = Path(sys.executable).parent
LOOKUP_LIMIT = 10
CASES = 3


class RedisServer:
    """A throw-away redis-server (no persistence) that can be stopped and started again on the same port."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while subprocess.run([shutil.which("redis-cli"), "-p", str(self.port), "ping"], capture_output=True,
                             text=True).stdout.strip() != "PONG":
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def start(args: list[str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen([str(BIN / "gongkai"), *args], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def wait_for(what, timeout: float, message: str, every: float = 0.02):
    deadline = time.monotonic() + timeout
    while True:
        found = what()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(every)


def job_row(session, job_id: int) -> Job:
    session.expire_all()
    job = session.get(Job, job_id)
    session.rollback()  # end the read so the next poll sees the workers' commits
    return job


@pytest.fixture
def cluster(db_url, agency, users, session, tmp_path, monkeypatch):
    if not db_url.startswith("postgresql"):
        pytest.skip("needs GONGKAI_TEST_DATABASE_URL (PostgreSQL)")
    if not shutil.which("redis-server"):
        pytest.skip("needs the redis-server binary")
    cases = [make_archived_case(session, users, name=f"申请人{n}") for n in range(CASES)]
    redis = RedisServer(tmp_path)
    config = tmp_path / "gongkai.toml"
    config.write_text(f"[web]\nAPI_LOOKUP_LIMIT_PER_MINUTE = {LOOKUP_LIMIT}\n", encoding="utf-8")
    for name, value in {"GONGKAI_DATABASE_URL": db_url, "GONGKAI_REDIS_URL": redis.url,
                        "GONGKAI_REDIS_PREFIX": f"gktest-{uuid.uuid4().hex[:8]}", "GONGKAI_CONFIG": str(config),
                        "GONGKAI_SECRET_KEY": "cluster-secret", "GONGKAI_JOB_STALE_SECONDS": "3",
                        "GONGKAI_JOB_HEARTBEAT_SECONDS": "0.5", "GONGKAI_SCHEDULER_INTERVAL_SECONDS": "0.5"}.items():
        monkeypatch.setenv(name, value)
    load_settings.cache_clear()
    processes: dict[str, subprocess.Popen] = {}
    with ExitStack() as stack:
        redis.start()
        stack.callback(redis.stop)
        nodes = []
        for name in ("a", "b"):
            var = tmp_path / f"node-{name}"
            var.mkdir()
            nodes.append(stack.enter_context(gunicorn_server(db_url, var, options=("-w", "2", "--timeout", "60"),
                                                             secret="cluster-secret")).base)
        for name in ("worker-1", "worker-2", "scheduler"):
            processes[name] = start(["scheduler" if name == "scheduler" else "worker"], tmp_path / f"{name}.log")
        try:
            yield {"nodes": nodes, "redis": redis, "processes": processes, "cases": cases, "tmp": tmp_path,
                   "session": session}
        finally:
            for process in processes.values():
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGTERM)
            for process in processes.values():
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
    load_settings.cache_clear()


def logs(tmp: Path) -> str:
    return "\n".join(f"== {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(tmp.glob("*.log")))


def test_a_cluster_shares_jobs_limits_and_lockouts_and_loses_no_job(cluster):
    node_a, node_b = cluster["nodes"]
    session, tmp = cluster["session"], cluster["tmp"]
    workers = {name: p for name, p in cluster["processes"].items() if name.startswith("worker")}

    # --- a year's export started on node A; the worker that runs it is killed with SIGKILL mid-job
    on_a = Browser(node_a)
    on_a.login("archivist")
    on_a.get("/archive/export")
    response = on_a.post("/archive/export/year", {"year": "2026"})
    assert response.status_code == 303, response.text
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    running = wait_for(lambda: (j := job_row(session, job_id)).state == "running" and j.worker and j, 60,
                       f"no worker started the job\n{logs(tmp)}")
    first_worker = running.worker
    horse = int(first_worker.rsplit(":", 1)[1])
    with open(f"/proc/{horse}/stat") as stat:
        parent = int(stat.read().rsplit(")", 1)[1].split()[1])
    victim = next(name for name, p in workers.items() if p.pid == parent)
    os.kill(parent, signal.SIGKILL)  # the worker first, so it cannot take the retry itself
    os.kill(horse, signal.SIGKILL)
    workers[victim].wait(timeout=10)
    killed = job_row(session, job_id)
    assert (killed.state, killed.attempts) == ("running", 1)
    assert killed.progress_done < CASES  # it really was interrupted before the end

    done = wait_for(lambda: (j := job_row(session, job_id)).state in ("done", "failed") and j, 90,
                    f"the job did not finish after its worker was killed\n{logs(tmp)}", every=0.2)
    assert done.state == "done", done.error
    assert done.attempts == 2 and done.worker != first_worker
    assert "处理进程中断" in done.error or done.error == ""
    assert (done.progress_done, done.progress_total) == (CASES, CASES)

    # --- the ZIP downloads from node B (another machine, another var/) and every case file verifies
    on_b = Browser(node_b)
    on_b.login("archivist")
    status = on_b.get(f"/jobs/{job_id}.json").json()
    assert status["state"] == "done" and status["percent"] == 100 and status["download"]
    bundle = on_b.http.get(node_b + status["download"], timeout=60)
    assert bundle.status_code == 200
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as outer:
        names = sorted(outer.namelist())
        assert names == sorted(c.archive_no + ".zip" for c in cluster["cases"])
        for name in names:
            (tmp / name).write_bytes(outer.read(name))
            assert verify_case_zip(tmp / name) == []

    # --- 30 status lookups spread over both nodes (4 gunicorn workers): exactly the configured 10 pass
    answers = [requests.post((node_a, node_b)[n % 2] + "/api/v1/public/status",
                             json={"reg_no": "依申请〔2026〕99号", "query_code": "ABCD2345"}, timeout=30)
               for n in range(30)]
    assert [r.status_code for r in answers] == [404] * LOOKUP_LIMIT + [429] * (30 - LOOKUP_LIMIT)
    assert answers[0].headers["RateLimit-Limit"] == str(LOOKUP_LIMIT)
    assert answers[LOOKUP_LIMIT - 1].headers["RateLimit-Remaining"] == "0"
    assert all(int(r.headers["Retry-After"]) >= 1 for r in answers[LOOKUP_LIMIT:])

    # --- five wrong passwords spread over both nodes lock the account on both
    for n in range(5):
        browser = Browser((node_a, node_b)[n % 2])
        browser.get("/login")
        assert browser.post("/login", {"username": "clerk", "password": "wrong-password"}).status_code == 401
    locked = Browser(node_b)
    locked.get("/login")
    refused = locked.post("/login", {"username": "clerk", "password": PASSWORD})
    assert refused.status_code == 401 and "锁定" in refused.text

    # --- Redis stops: a case export is still accepted (written first in PostgreSQL) and runs when it is back
    cluster["redis"].stop()
    on_a.get("/archive/export")
    response = on_a.post(f"/cases/{cluster['cases'][0].id}/casefile", {})
    assert response.status_code == 303, response.text
    waiting_id = int(response.headers["Location"].rsplit("/", 1)[1])
    waiting = job_row(session, waiting_id)
    assert (waiting.state, waiting.enqueued_at) == ("queued", None)
    cluster["redis"].start()
    finished = wait_for(lambda: (j := job_row(session, waiting_id)).state in ("done", "failed") and j, 90,
                        f"the job created while Redis was down never ran\n{logs(tmp)}", every=0.2)
    assert finished.state == "done" and finished.attempts == 1, finished.error
    single = on_b.http.get(node_b + f"/jobs/{waiting_id}/download", timeout=60)
    (tmp / "single.zip").write_bytes(single.content)
    assert verify_case_zip(tmp / "single.zip") == []
    assert session.scalars(select(Job.state).where(Job.id.in_((job_id, waiting_id)))).all() == ["done", "done"]
