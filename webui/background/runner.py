"""The loops that run jobs: the RQ entry point, the scheduler, and the embedded runner used without Redis.

- `perform_job(id)`: what an RQ work horse calls; claims the row and runs the job's body.
- `run_scheduler()`: `gongkai scheduler` — once per cluster (a Redis lease): re-queues what dead workers
  left, dispatches jobs that never reached Redis, enqueues the periodic jobs, and merges the search index's
  pending entries before a request has to.
- `run_embedded()`: without Redis, `gongkai serve` starts this in a background process (and `gongkai worker`
  runs it in the foreground): the table itself is the queue, polled every second. Messages (`QUICK_KINDS`) have
  a lane of their own, a thread that runs only them, so a registration's e-mail goes out within seconds even while
  a year's export holds the main lane for an hour.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import uuid
from datetime import timedelta

from sqlalchemy import Engine

from engine.config import load_settings
from engine.persistence.db import make_engine, transaction
from engine.persistence.search_index import merge_search_index
from engine.services import jobs
from webui.background import kinds  # noqa: F401  (registers the job bodies this runner may be handed)

log = logging.getLogger("gongkai.jobs")

SCHEDULER_INTERVAL_SECONDS = float(os.environ.get("GONGKAI_SCHEDULER_INTERVAL_SECONDS", "5"))
POLL_SECONDS = 1.0
# Periodic jobs: kind → how often (the scheduler enqueues each once per period, cluster-wide).
# The digest job is hourly and writes each user's digest once a day, from the configured hour on.
PERIODIC = {"purge_finished_jobs": timedelta(days=1), "staff_digests": timedelta(hours=1)}
QUICK_KINDS = ("send_message", "render_letter")  # a message, and a receipt rendered after its commit


def perform_job(job_id: int) -> str:
    """RQ's entry point (runs in the work horse): its own database engine, the shared job runner."""
    from webui import background

    background.configure()
    engine = make_engine(load_settings().database_url)
    try:
        return jobs.perform(engine, job_id)
    finally:
        engine.dispose()


def sweep_once(engine: Engine, *, dispatch: bool) -> list[int]:
    """One round of housekeeping: abandoned jobs back in the queue (or failed), periodic jobs enqueued;
    with `dispatch`, queued jobs that are not in Redis are handed to it; the search index's pending entries
    merged (`engine.persistence.search_index`), so that no request has to."""
    with transaction(engine) as session:
        ids = jobs.sweep(session)
        for kind, every in PERIODIC.items():
            jobs.enqueue_periodic(session, kind, every=every)  # dispatched on commit, like any new job
    if dispatch and ids:
        jobs.dispatch(engine, sorted(set(ids)))
    with transaction(engine) as session:  # a transaction of its own: the jobs' rows are not held meanwhile
        merge_search_index(session)
    return ids


def work_pending(engine: Engine, *, limit: int | None = None, only: tuple[str, ...] = ()) -> int:
    """Run queued jobs (of the kinds `only` names, if any) in this process until none is left (or `limit` ran); how many ran."""
    ran = 0
    while limit is None or ran < limit:
        with transaction(engine) as session:
            job_id = jobs.next_queued(session, kinds=only)
        if job_id is None:
            return ran
        if jobs.perform(engine, job_id) != "skipped":
            ran += 1
    return ran


def lower_priority(nice: int) -> int:
    """Lower this process's CPU priority by `nice` (GONGKAI_WORKER_NICE, 10 by default) and return its niceness.
    Background work — rendering the receipts that registrations leave to it, exports, messages — yields the CPU
    to the web workers when both want it: a registration holds its agency's number counter until it commits, and
    on a busy machine every registration of the agency waits while the holder waits for the CPU (the measured
    effect is in the README, *The background worker yields the CPU*). It only matters when the CPU is short."""
    return os.nice(max(nice, 0))


def run_embedded(database_url: str | None = None, stop: threading.Event | None = None, *,
                 parent_bound: bool = False, nice: int = 0) -> None:
    """The embedded runner: housekeeping and queued jobs, one at a time, until `stop` (or SIGTERM), or — when
    `parent_bound` — until the process that started it is gone. `nice`: first lower the process's CPU priority by
    that much (`lower_priority`; only for a process of its own, as `gongkai serve` starts it)."""
    from webui import background

    if nice:
        lower_priority(nice)

    background.configure()
    stop = stop or _stop_on_signals()
    engine = make_engine(database_url or load_settings().database_url)
    last_sweep = 0.0
    parent = os.getppid()
    done = threading.Event()

    def running() -> bool:
        # A runner started by `gongkai serve` ends with it, even when the server was killed without cleanup.
        return not stop.is_set() and not done.is_set() and (not parent_bound or os.getppid() == parent)

    def quick_lane() -> None:
        while running():
            if not _guarded(work_pending, engine, limit=1, only=QUICK_KINDS):
                stop.wait(POLL_SECONDS)

    lane = threading.Thread(target=quick_lane, name="gongkai-messages", daemon=True)
    lane.start()
    try:
        while running():
            if time.monotonic() - last_sweep >= SCHEDULER_INTERVAL_SECONDS:
                _guarded(sweep_once, engine, dispatch=False)
                last_sweep = time.monotonic()
            if not _guarded(work_pending, engine, limit=1):
                stop.wait(POLL_SECONDS)
    finally:
        done.set()
        lane.join(timeout=30)
        engine.dispose()


def run_scheduler(stop: threading.Event | None = None) -> None:
    """`gongkai scheduler`: housekeeping for the whole cluster, by whichever scheduler holds the lease."""
    from webui import background
    from webui.background.queue import hold_leadership

    background.configure()
    stop = stop or _stop_on_signals()
    engine = make_engine(load_settings().database_url)
    token = uuid.uuid4().hex
    lease = max(10, int(SCHEDULER_INTERVAL_SECONDS * 3))
    try:
        while not stop.is_set():
            try:
                if hold_leadership(token, lease):
                    sweep_once(engine, dispatch=True)
            except Exception:  # noqa: BLE001 - Redis or the database away: try again next round
                log.warning("scheduler round failed; retrying", exc_info=True)
            stop.wait(SCHEDULER_INTERVAL_SECONDS)
    finally:
        engine.dispose()


def _guarded(function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except Exception:  # noqa: BLE001 - the runner outlives a database hiccup
        log.warning("background runner: %s failed; retrying", function.__name__, exc_info=True)
        return None


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    return stop
