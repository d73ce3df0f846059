"""Background jobs: the one place any feature hands work to the background (exports, recomputation, and
later notifications and webhooks).

A job is a row in `jobs`, written by `enqueue` in the caller's transaction (an outbox): when that
transaction commits, the configured dispatcher hands the job's id to the queue (RQ on Redis, or nothing
in the embedded mode, whose runner polls the table). A job that never reached the queue — Redis was down,
the process died between commit and dispatch — is found by `sweep` and dispatched again, so none is lost.

Running a job (`perform`) claims the row with one UPDATE (queued → running, attempts + 1): of two workers
handed the same id only one wins. The attempt number is the fencing token: progress, the result file and
the final state are written only `WHERE attempts = <mine> AND state = 'running'`, in one transaction with
the result, so a worker killed with `kill -9` and its successor can never both deliver a result. A worker
that stops beating its heart is presumed dead; `sweep` queues its job again, and after `max_attempts`
failed or interrupted attempts the job is `failed` with the last error. A kind may ask for backoff: its failed
job is queued again with `run_after` (base × 2^(attempt−1), at most an hour), and neither the runner nor the
sweeper hands it out before then. Job bodies must therefore be
idempotent: whatever they write before returning may be written again by the next attempt.

This module knows no queue library: the dispatcher is injected with `set_dispatcher`.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, and_, delete, event, func, inspect, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.persistence.db import session_factory
from engine.persistence.direct_insert import insert_new
from engine.persistence.models import Job, JobResultChunk

log = logging.getLogger("gongkai.jobs")

MAX_ATTEMPTS = 3
CHUNK_BYTES = 4 * 1024 * 1024
HEARTBEAT_SECONDS = float(os.environ.get("GONGKAI_JOB_HEARTBEAT_SECONDS", "5"))
# A running job whose heartbeat is older than this is presumed abandoned (its worker died).
STALE_SECONDS = float(os.environ.get("GONGKAI_JOB_STALE_SECONDS", "60"))
# A queued job never handed to the queue is dispatched again after this (the committer had its chance).
UNDISPATCHED_GRACE_SECONDS = 5
# A queued job handed to the queue this long ago and never started is presumed lost with Redis' data.
LOST_SECONDS = 15 * 60
_PENDING = "gongkai_jobs_to_dispatch"
MAX_BACKOFF_SECONDS = 3600


@dataclass(frozen=True)
class JobOutput:
    """What a job body returns: a small JSON summary and, optionally, a result file stored with the job."""

    summary: dict = field(default_factory=dict)
    file: Path | None = None
    file_name: str | None = None


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str  # shown to users (Chinese)
    run: Callable[[JobContext], JobOutput]
    max_attempts: int = MAX_ATTEMPTS
    # Seconds to wait before the attempt after failed attempt N (backoff); None: queued again at once.
    retry_after: Callable[[int], float] | None = None

    def retry_delay(self, attempt: int) -> timedelta:
        """How long a job that failed its `attempt`-th run waits before the next."""
        seconds = self.retry_after(attempt) if self.retry_after is not None else 0
        return timedelta(seconds=min(MAX_BACKOFF_SECONDS, max(0.0, seconds)))


REGISTRY: dict[str, JobKind] = {}


def job_kind(name: str, label: str, *, max_attempts: int = MAX_ATTEMPTS, backoff_seconds: float = 0.0,
             retry_after: Callable[[int], float] | None = None):
    """Register the decorated function `(ctx) -> JobOutput` as the body of jobs of kind `name`. A failed job
    waits before its next attempt: `retry_after(n)` seconds after the n-th failure, or `backoff_seconds` doubled
    for each further failure (the job waits in the table, not in the queue)."""
    if retry_after is None and backoff_seconds > 0:
        def retry_after(attempt: int) -> float:
            return backoff_seconds * 2 ** (attempt - 1)

    def register(run: Callable[[JobContext], JobOutput]):
        REGISTRY[name] = JobKind(name, label, run, max_attempts, retry_after)
        return run

    return register


def kind_label(name: str) -> str:
    found = REGISTRY.get(name)
    return found.label if found else name


# ---------------------------------------------------------------- enqueueing (the outbox)

_dispatcher: Callable[[Engine, list[int]], None] | None = None


def set_dispatcher(dispatcher: Callable[[Engine, list[int]], None] | None) -> None:
    """Who hands committed job ids to the queue (RQ when Redis is configured; None: the runner polls)."""
    global _dispatcher
    _dispatcher = dispatcher


def enqueue(session: Session, kind: str, *, agency_id: int | None = None, requested_by: str = "",
            dedupe_key: str | None = None, now: datetime | None = None, **args) -> Job:
    """Write a queued job in the caller's transaction (now: its id is known); it reaches the queue when that
    transaction commits. One INSERT without the session's unit of work (`insert_new`): a registration enqueues its
    receipt's rendering, and a flush for the one row cost a twentieth of the request."""
    job = Job(kind=kind, args=args, agency_id=agency_id, requested_by=requested_by, dedupe_key=dedupe_key,
              state="queued", attempts=0, max_attempts=REGISTRY[kind].max_attempts if kind in REGISTRY else MAX_ATTEMPTS,
              progress_done=0, progress_note="", error="", worker="", created_at=now or _now())
    insert_new(session, [[job]])
    session.info.setdefault(_PENDING, []).append(job)
    return job


@event.listens_for(Session, "after_commit")
def _dispatch_committed(session: Session) -> None:
    jobs = session.info.pop(_PENDING, None)
    # Each job's id from its identity, which the commit's flush gave it (not read again from the expired row).
    ids = [identity[0] for identity in (inspect(job).identity for job in jobs or ()) if identity]
    if ids and _dispatcher is not None:
        dispatch(session.get_bind(), ids)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)


def dispatch(engine: Engine, ids: list[int]) -> bool:
    """Hand `ids` to the queue; a failure is logged, not raised: the rows stay queued and `sweep` retries."""
    if _dispatcher is None or not ids:
        return False
    try:
        _dispatcher(engine, ids)
    except Exception:  # noqa: BLE001 - the queue being down must not fail the request that committed the job
        log.warning("could not hand jobs %s to the queue; the sweeper will retry", ids, exc_info=True)
        return False
    return True


def mark_dispatched(engine: Engine, ids: list[int]) -> None:
    with engine.begin() as conn:
        conn.execute(update(Job).where(Job.id.in_(ids), Job.state == "queued").values(enqueued_at=_now()))


# ---------------------------------------------------------------- reading jobs

def get_job(session: Session, job_id: int) -> Job | None:
    return session.get(Job, job_id)


def recent_jobs(session: Session, *, agency_id: int | None = None, kinds: tuple[str, ...] = (),
                limit: int = 20) -> list[Job]:
    stmt = select(Job).order_by(Job.id.desc()).limit(limit)
    if agency_id is not None:
        stmt = stmt.where(Job.agency_id == agency_id)
    if kinds:
        stmt = stmt.where(Job.kind.in_(kinds))
    return list(session.scalars(stmt))


def result_chunks(session: Session, job_id: int) -> Iterator[bytes]:
    """The stored result file, slice by slice (the download streams it without holding it whole)."""
    seq = -1
    while True:
        chunk = session.scalar(select(JobResultChunk.data).where(JobResultChunk.job_id == job_id,
                                                                 JobResultChunk.seq > seq)
                               .order_by(JobResultChunk.seq).limit(1))
        if chunk is None:
            return
        seq += 1
        yield bytes(chunk)


@dataclass(frozen=True)
class Progress:
    percent: int | None
    done: int
    total: int | None
    seconds_left: int | None


def progress_of(job: Job, now: datetime | None = None) -> Progress:
    """Percent, items done and an estimate of the time left, from the job's own reports."""
    if job.state == "done":
        return Progress(100, job.progress_done, job.progress_total, 0)
    total, done = job.progress_total, job.progress_done
    if not total:
        return Progress(None, done, total, None)
    percent = min(100, int(done * 100 / total))
    seconds_left = None
    if job.state == "running" and done and job.started_at is not None:
        started = job.started_at if job.started_at.tzinfo else job.started_at.replace(tzinfo=UTC)
        elapsed = ((now or _now()) - started).total_seconds()
        seconds_left = max(0, int(elapsed / done * (total - done)))
    return Progress(percent, done, total, seconds_left)


# ---------------------------------------------------------------- running a job

class LeaseLost(Exception):
    """Another worker took this job over (ours was presumed dead); stop without writing anything more."""


@dataclass
class JobContext:
    """What a job body sees: its arguments, a database, and a way to report progress."""

    engine: Engine
    job_id: int
    attempt: int
    kind: str
    args: dict
    agency_id: int | None
    requested_by: str
    work_dir: Path
    _last_report: float = 0.0

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A unit of work of the body, committed only while this attempt still holds the job."""
        session = session_factory(self.engine)()
        try:
            yield session
            self.hold(session)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def hold(self, session: Session, **values) -> None:
        """In `session`: check this attempt still holds the job (raise LeaseLost if not) and beat the heart."""
        result = session.execute(update(Job).where(Job.id == self.job_id, Job.attempts == self.attempt,
                                                   Job.state == "running")
                                 .values(heartbeat_at=_now(), **values))
        if result.rowcount != 1:
            raise LeaseLost(self.job_id)

    def progress(self, done: int, total: int | None = None, note: str = "", *, force: bool = False,
                 session: Session | None = None) -> None:
        """Report progress (at most twice a second unless `force`); in `session` if the body has one open."""
        now = time.monotonic()
        if not force and session is None and now - self._last_report < 0.5:
            return
        self._last_report = now
        values = {"progress_done": done, "progress_note": note[:300]}
        if total is not None:
            values["progress_total"] = total
        if session is not None:
            self.hold(session, **values)
            return
        with session_factory(self.engine)() as own:
            self.hold(own, **values)
            own.commit()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(engine: Engine, job_id: int, *, worker: str | None = None) -> int | None:
    """Take the job for this process: its attempt number, or None if it is not ours to run."""
    now = _now()
    stale = now - timedelta(seconds=STALE_SECONDS)
    with engine.begin() as conn:
        result = conn.execute(
            update(Job)
            .where(Job.id == job_id, Job.attempts < Job.max_attempts, _due(now),
                   or_(Job.state == "queued", and_(Job.state == "running", Job.heartbeat_at < stale)))
            .values(state="running", attempts=Job.attempts + 1, worker=(worker or worker_name())[:120],
                    started_at=now, heartbeat_at=now, finished_at=None)
            .returning(Job.attempts))
        row = result.first()
    return row[0] if row else None


def perform(engine: Engine, job_id: int, *, work_root: Path | None = None) -> str:
    """Claim and run one job; the state it ended in (or 'skipped' when another process holds it)."""
    attempt = claim(engine, job_id)
    if attempt is None:
        return "skipped"
    with session_factory(engine)() as session:
        job = session.get(Job, job_id)
        ctx_args = dict(kind=job.kind, args=dict(job.args or {}), agency_id=job.agency_id,
                        requested_by=job.requested_by, max_attempts=job.max_attempts)
    kind = REGISTRY.get(ctx_args["kind"])
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(engine, job_id, attempt, stop), daemon=True,
                            name=f"job-{job_id}-heartbeat")
    beat.start()
    try:
        with tempfile.TemporaryDirectory(prefix=f"gongkai-job-{job_id}-", dir=work_root) as folder:
            ctx = JobContext(engine, job_id, attempt, ctx_args["kind"], ctx_args["args"], ctx_args["agency_id"],
                             ctx_args["requested_by"], Path(folder))
            if kind is None:
                raise LookupError(f"未知的任务类型「{ctx_args['kind']}」")
            output = kind.run(ctx)
            return _finish(engine, ctx, output)
    except LeaseLost:
        log.warning("job %s attempt %s was taken over by another worker; its work is discarded", job_id, attempt)
        return "skipped"
    except Exception as error:  # noqa: BLE001 - whatever stopped the body is recorded on the job
        log.exception("job %s attempt %s failed", job_id, attempt)
        return _record_failure(engine, job_id, attempt, ctx_args["max_attempts"], error, kind)
    finally:
        stop.set()
        beat.join(timeout=5)


def _finish(engine: Engine, ctx: JobContext, output: JobOutput) -> str:
    """The result file and the final state in one transaction, fenced by the attempt: exactly one result."""
    with session_factory(engine)() as session:
        size = output.file.stat().st_size if output.file is not None else None
        ctx.hold(session, state="done", finished_at=_now(), result=output.summary,
                 result_name=output.file_name or (output.file.name if output.file else None), result_size=size,
                 error="")
        session.execute(delete(JobResultChunk).where(JobResultChunk.job_id == ctx.job_id))
        if output.file is not None:
            with output.file.open("rb") as fh:
                for seq, data in enumerate(iter(lambda: fh.read(CHUNK_BYTES), b"")):
                    session.add(JobResultChunk(job_id=ctx.job_id, seq=seq, data=data))
                    session.flush()
        session.commit()
    return "done"


def _record_failure(engine: Engine, job_id: int, attempt: int, max_attempts: int, error: Exception,
                    kind: JobKind | None = None) -> str:
    message = _describe(error)
    final = attempt >= max_attempts
    state = "failed" if final else "queued"
    delay = kind.retry_delay(attempt) if kind is not None and not final else timedelta(0)
    note = f"，{int(delay.total_seconds())} 秒后重试" if delay else ""
    with engine.begin() as conn:
        result = conn.execute(update(Job).where(Job.id == job_id, Job.attempts == attempt, Job.state == "running")
                              .values(state=state, error=f"第 {attempt} 次执行失败{note}：{message}",
                                      finished_at=_now() if final else None, enqueued_at=None,
                                      run_after=_now() + delay if delay else None))
    # A delayed retry is handed to the queue by the sweeper once it is due (the runner polls for it).
    if result.rowcount == 1 and not final and not delay:
        dispatch(engine, [job_id])
    return state


def _describe(error: Exception) -> str:
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    where = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
    suffix = f"（{type(error).__name__}，{where[0].filename.rsplit('/', 1)[-1]}:{where[0].lineno}）" if where else ""
    return f"{text}{suffix}"[:2000]


def _heartbeat(engine: Engine, job_id: int, attempt: int, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_SECONDS):
        try:
            with engine.begin() as conn:
                conn.execute(update(Job).where(Job.id == job_id, Job.attempts == attempt, Job.state == "running")
                             .values(heartbeat_at=_now()))
        except Exception:  # noqa: BLE001 - a missed beat is retried on the next one
            log.warning("heartbeat of job %s failed", job_id, exc_info=True)


# ---------------------------------------------------------------- the sweeper (scheduler / embedded runner)

def sweep(session: Session, *, now: datetime | None = None) -> list[int]:
    """Queue again what a dead worker left running (or fail it after its last attempt); return the ids of
    queued jobs that should be (re)dispatched: never handed to the queue, or presumed lost with it."""
    now = now or _now()
    stale = now - timedelta(seconds=STALE_SECONDS)
    # populate_existing: the rows changed under us (workers write them directly), whatever the session holds.
    abandoned = session.scalars(select(Job).where(Job.state == "running", Job.heartbeat_at < stale)
                                .with_for_update(skip_locked=True).execution_options(populate_existing=True)).all()
    for job in abandoned:
        if job.attempts >= job.max_attempts:
            job.state, job.finished_at = "failed", now
            job.error = f"第 {job.attempts} 次执行时处理进程中断（{job.worker}），已达最多 {job.max_attempts} 次"
        else:
            job.state, job.enqueued_at = "queued", None
            job.error = f"第 {job.attempts} 次执行时处理进程中断（{job.worker}），已重新排队"
    session.flush()
    undispatched = now - timedelta(seconds=UNDISPATCHED_GRACE_SECONDS)
    lost = now - timedelta(seconds=LOST_SECONDS)
    return list(session.scalars(select(Job.id).where(
        Job.state == "queued", _due(now),
        # A retry waiting out its backoff is handed over as soon as it is due (the grace is for fresh commits).
        or_(and_(Job.enqueued_at.is_(None), or_(Job.created_at < undispatched, Job.run_after.is_not(None))),
            Job.enqueued_at < lost))
        .order_by(Job.id)))


def next_queued(session: Session, *, kinds: tuple[str, ...] = ()) -> int | None:
    """The oldest queued job that is due, of `kinds` if given (the embedded runner's queue is the table itself)."""
    stmt = select(Job.id).where(Job.state == "queued", Job.attempts < Job.max_attempts, _due(_now()))
    if kinds:
        stmt = stmt.where(Job.kind.in_(kinds))
    return session.scalar(stmt.order_by(Job.id).limit(1))


def _due(now: datetime):
    """Not waiting out a retry's backoff."""
    return or_(Job.run_after.is_(None), Job.run_after <= now)


def enqueue_periodic(session: Session, kind: str, *, every: timedelta, now: datetime | None = None) -> Job | None:
    """Once per period across the cluster: the period is in the job's unique `dedupe_key`."""
    now = now or _now()
    period = int(now.timestamp() // every.total_seconds())
    key = f"{kind}@{period}"
    if session.scalar(select(func.count()).select_from(Job).where(Job.dedupe_key == key)):
        return None
    try:
        with session.begin_nested():
            return enqueue(session, kind, dedupe_key=key, requested_by="scheduler", now=now)
    except IntegrityError:  # another scheduler took this period first
        return None


def purge_finished(session: Session, *, older_than: timedelta, now: datetime | None = None) -> int:
    """Delete finished jobs (and their result files) that ended more than `older_than` ago."""
    cutoff = (now or _now()) - older_than
    ids = list(session.scalars(select(Job.id).where(Job.state.in_(("done", "failed")), Job.finished_at < cutoff)))
    if ids:
        session.execute(delete(JobResultChunk).where(JobResultChunk.job_id.in_(ids)))
        session.execute(delete(Job).where(Job.id.in_(ids)))
    return len(ids)


def _now() -> datetime:
    return datetime.now(UTC)
