"""RQ on Redis (`GONGKAI_REDIS_URL`): the queue carries only job ids; the rows in the database are the truth.

`GONGKAI_REDIS_PREFIX` (default `gongkai`) names the queue and every key Gongkai writes, so that several
installations (or test runs) can share one Redis.
"""

from __future__ import annotations

import os
import uuid
from functools import lru_cache

from redis import Redis
from rq import Queue, Worker
from sqlalchemy import Engine

from engine.config import load_settings
from engine.services import jobs
from webui.background import prefix

# RQ's own timeout is a backstop only: a year's export of thousands of cases may take an hour.
JOB_TIMEOUT_SECONDS = 6 * 3600


@lru_cache(maxsize=4)
def _connection(url: str, pid: int) -> Redis:
    # Short timeouts: a request that commits a job must not hang when Redis is down (the sweeper retries).
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10, health_check_interval=30)


def connection() -> Redis:
    url = load_settings().redis_url
    if not url:
        raise RuntimeError("GONGKAI_REDIS_URL is not set")
    return _connection(url, os.getpid())  # one client per process: never share a socket across fork


def queue() -> Queue:
    return Queue(f"{prefix()}-jobs", connection=connection(), default_timeout=JOB_TIMEOUT_SECONDS)


def dispatch_to_rq(engine: Engine, ids: list[int]) -> None:
    """Put one RQ job per id on the queue, then note in the rows that they reached it."""
    target = queue()
    for job_id in ids:
        target.enqueue_call("webui.background.runner.perform_job", args=(job_id,),
                            job_id=f"{prefix()}-{job_id}-{uuid.uuid4().hex[:12]}",
                            timeout=JOB_TIMEOUT_SECONDS, result_ttl=3600, failure_ttl=7 * 86400,
                            description=f"gongkai job {job_id}")
    jobs.mark_dispatched(engine, ids)


def run_worker(*, burst: bool = False, name: str | None = None) -> None:
    """An RQ worker on Gongkai's queue: each job runs in a forked work horse (memory returns after it)."""
    worker = Worker([queue()], connection=connection(), name=name or f"{prefix()}-{uuid.uuid4().hex[:10]}")
    worker.work(burst=burst, with_scheduler=False, logging_level="INFO")


def hold_leadership(token: str, ttl_seconds: int) -> bool:
    """The scheduler runs once per cluster: whoever holds this key (renewed before it expires) leads."""
    key = f"{prefix()}:scheduler-leader"
    redis = connection()
    if redis.set(key, token, nx=True, ex=ttl_seconds):
        return True
    if (redis.get(key) or b"").decode() == token:
        redis.expire(key, ttl_seconds)
        return True
    return False
