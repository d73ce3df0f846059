"""Background jobs (engine.services.jobs): written in the caller's transaction and dispatched only after it
commits, claimed by one worker, re-queued when their worker dies, fenced so that a presumed-dead worker
cannot deliver a result, failed after three attempts with the error on the admin page; the embedded runner
and the due-date recomputation job."""

from __future__ import annotations

import shutil
import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from engine.errors import InvalidInput
from engine.persistence.models import AuditEvent, Job, JobResultChunk
from engine.rules.calendar import default_calendar
from engine.services import jobs
from engine.services.jobs import JobContext, JobOutput, LeaseLost, job_kind
from tests.conftest import PASSWORD
from webui.background.runner import run_embedded, sweep_once, work_pending

from .helpers_cases import register

RUNS: list[int] = []


@job_kind("test_write_file", "测试：写文件")
def write_file(ctx: JobContext) -> JobOutput:
    RUNS.append(ctx.attempt)
    path = ctx.work_dir / "result.txt"
    path.write_bytes(ctx.args["text"].encode() * ctx.args.get("repeat", 1))
    ctx.progress(1, 1, force=True)
    return JobOutput({"message": "写好了"}, path)


@job_kind("test_always_fails", "测试：总是失败")
def always_fails(ctx: JobContext) -> JobOutput:
    raise InvalidInput("测试数据有误：缺少字段 name")


@pytest.fixture
def dispatched():
    sent: list[list[int]] = []
    jobs.set_dispatcher(lambda engine, ids: sent.append(list(ids)))
    yield sent
    jobs.set_dispatcher(None)


@pytest.fixture
def signed_in(db_url):
    """A signed-in test client of a fresh app (its engine disposed after the test)."""
    from webui.app import create_app
    from webui.db import get_engine

    apps = []

    def client_for(username: str):
        app = create_app({"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False,
                          "GONGKAI_TODAY": date(2026, 12, 28)})
        apps.append(app)
        client = app.test_client()
        assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
        return client

    yield client_for
    for app in apps:
        with app.app_context():
            get_engine().dispose()


def age(session, job_id: int, seconds: float, column=Job.heartbeat_at) -> None:
    old = jobs._now() - timedelta(seconds=seconds)
    session.execute(update(Job).where(Job.id == job_id).values({column: old}))
    session.commit()


def test_a_job_is_dispatched_only_when_the_transaction_that_wrote_it_commits(session, dispatched):
    job = jobs.enqueue(session, "test_write_file", text="a")
    assert dispatched == []
    session.commit()
    assert dispatched == [[job.id]]
    jobs.enqueue(session, "test_write_file", text="b")
    session.rollback()
    assert dispatched == [[job.id]]
    assert session.scalar(select(func.count()).select_from(Job)) == 1


def test_a_job_the_queue_refused_stays_queued_and_the_sweeper_dispatches_it_again(session, db_engine):
    def refuse(engine, ids):
        raise ConnectionError("Redis is down")

    jobs.set_dispatcher(refuse)
    try:
        job = jobs.enqueue(session, "test_write_file", text="a")
        session.commit()  # the request that created it succeeds
    finally:
        jobs.set_dispatcher(None)
    session.refresh(job)
    assert (job.state, job.enqueued_at) == ("queued", None)
    age(session, job.id, 60, Job.created_at)
    sent: list[list[int]] = []
    jobs.set_dispatcher(lambda engine, ids: (sent.append(list(ids)), jobs.mark_dispatched(engine, ids)))
    try:
        sweep_once(db_engine, dispatch=True)
    finally:
        jobs.set_dispatcher(None)
    assert [job.id] in sent  # (beside the day's periodic purge, enqueued by the same round)
    session.refresh(job)
    assert job.enqueued_at is not None and job.state == "queued"


def test_of_two_workers_handed_the_same_job_only_one_claims_it(session, db_engine):
    job = jobs.enqueue(session, "test_write_file", text="a")
    session.commit()
    assert jobs.claim(db_engine, job.id, worker="host-a:1") == 1
    assert jobs.claim(db_engine, job.id, worker="host-b:2") is None


def test_a_job_whose_worker_died_is_queued_again_and_the_dead_attempt_cannot_deliver(session, db_engine):
    RUNS.clear()
    job = jobs.enqueue(session, "test_write_file", text="once")
    session.commit()
    assert jobs.claim(db_engine, job.id, worker="host-a:1") == 1  # then host-a is killed with SIGKILL
    age(session, job.id, jobs.STALE_SECONDS + 1)
    with session.begin():
        assert jobs.sweep(session) == []
    session.refresh(job)
    assert job.state == "queued" and "处理进程中断" in job.error and "host-a:1" in job.error
    assert work_pending(db_engine) == 1
    session.refresh(job)
    assert (job.state, job.attempts, RUNS) == ("done", 2, [2])
    zombie = JobContext(db_engine, job.id, 1, job.kind, {}, None, "", None)
    with jobs.session_factory(db_engine)() as other, pytest.raises(LeaseLost):
        zombie.hold(other)
    chunks = session.scalars(select(JobResultChunk.data).where(JobResultChunk.job_id == job.id)).all()
    assert [bytes(c) for c in chunks] == [b"once"]


def test_a_large_result_is_stored_in_slices_and_read_back_whole(session, db_engine):
    job = jobs.enqueue(session, "test_write_file", text="0123456789", repeat=jobs.CHUNK_BYTES // 10 + 5)
    session.commit()
    assert work_pending(db_engine) == 1
    session.refresh(job)
    content = b"".join(jobs.result_chunks(session, job.id))
    assert len(content) == job.result_size == 10 * (jobs.CHUNK_BYTES // 10 + 5)
    assert session.scalar(select(func.count()).select_from(JobResultChunk).where(JobResultChunk.job_id == job.id)) == 2


def test_a_job_that_fails_three_times_is_failed_with_its_error_on_the_admin_page(session, db_engine, users,
                                                                               signed_in):
    job = jobs.enqueue(session, "test_always_fails", agency_id=users["admin"].agency_id, requested_by="admin用户")
    session.commit()
    work_pending(db_engine)
    session.refresh(job)
    assert (job.state, job.attempts) == ("failed", 3)
    assert job.error.startswith("第 3 次执行失败：测试数据有误：缺少字段 name")
    page = signed_in("admin").get("/admin/jobs").get_data(as_text=True)
    assert "测试：总是失败" in page and "测试数据有误：缺少字段 name" in page and "3 / 3" in page


def test_a_job_interrupted_on_its_last_attempt_is_failed_by_the_sweeper(session, db_engine):
    job = jobs.enqueue(session, "test_write_file", text="a")
    session.commit()
    session.execute(update(Job).where(Job.id == job.id).values(state="running", attempts=3, worker="host-c:3"))
    session.commit()
    age(session, job.id, jobs.STALE_SECONDS + 1)
    with session.begin():
        jobs.sweep(session)
    session.refresh(job)
    assert job.state == "failed" and "已达最多 3 次" in job.error
    assert work_pending(db_engine) == 0


def test_a_periodic_job_is_enqueued_once_per_period_whoever_asks(session):
    moment = jobs._now()
    first = jobs.enqueue_periodic(session, "purge_finished_jobs", every=timedelta(days=1), now=moment)
    again = jobs.enqueue_periodic(session, "purge_finished_jobs", every=timedelta(days=1), now=moment)
    session.commit()
    assert first is not None and again is None


def test_the_embedded_runner_runs_queued_jobs_in_the_background(session, db_url):
    job = jobs.enqueue(session, "test_write_file", text="embedded")
    session.commit()
    stop = threading.Event()
    runner = threading.Thread(target=run_embedded, args=(db_url, stop), daemon=True)
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while session.scalar(select(Job.state).where(Job.id == job.id)) != "done" and time.monotonic() < deadline:
            session.rollback()
            time.sleep(0.1)
    finally:
        stop.set()
        runner.join(timeout=10)
    session.expire_all()
    assert session.get(Job, job.id).state == "done"
    assert b"".join(jobs.result_chunks(session, job.id)) == b"embedded"


def test_the_recompute_job_follows_a_new_notice_with_progress_and_changes_nothing_the_second_time(
        session, db_engine, signed_in, users, tmp_path, project_root, monkeypatch):
    case, _ = register(session, users, date(2026, 12, 21))
    session.commit()
    assert case.due_provisional
    data = tmp_path / "holidays"
    shutil.copytree(project_root / "holidays", data)
    (data / "2027.toml").write_text(
        'year = 2027\n\n[[notices]]\nnumber = "国办发明电〔2026〕99号"\ntitle = "测试通知"\n'
        'published_on = 2026-11-01\n\n[[blocks]]\nname = "元旦"\nnotice = "国办发明电〔2026〕99号"\n'
        'rest = [2027-01-01, 2027-01-02, 2027-01-03, 2027-01-04, 2027-01-05]\n', encoding="utf-8")
    monkeypatch.setenv("GONGKAI_HOLIDAYS_DIR", str(data))
    from engine.config import load_settings

    load_settings.cache_clear()
    default_calendar.cache_clear()
    try:
        admin = signed_in("admin")
        assert "重新计算在办申请的答复期限" in admin.get("/admin/").get_data(as_text=True)
        response = admin.post("/admin/calendar/recompute")
        assert response.status_code == 303
        job_url = response.headers["Location"]
        assert admin.post("/admin/calendar/recompute").headers["Location"] == job_url  # one at a time
        assert work_pending(db_engine) == 1
        status = admin.get(job_url + ".json").get_json()
        assert (status["state"], status["done"], status["total"], status["percent"]) == ("done", 1, 1, 100)
        assert status["summary"]["changed"] == 1 and case.reg_no in status["summary"]["changes"][0]
        assert "已重新计算 1 件在办申请的答复期限，1 件有变化" in admin.get(job_url).get_data(as_text=True)
        again = admin.post("/admin/calendar/recompute").headers["Location"]
        assert again != job_url and work_pending(db_engine) == 1
        assert admin.get(again + ".json").get_json()["summary"]["changed"] == 0
        events = session.scalar(select(func.count()).select_from(AuditEvent)
                                .where(AuditEvent.action == "recompute_due"))
        assert events == 1
        assert signed_in("clerk").get(job_url).status_code == 403
    finally:
        monkeypatch.delenv("GONGKAI_HOLIDAYS_DIR")
        load_settings.cache_clear()
        default_calendar.cache_clear()


def test_the_sweep_merges_the_search_index_s_pending_entries_so_no_request_has_to(session, db_engine, users, today):
    """A registration adds its case's trigrams to the GIN index's pending list (PostgreSQL); the background sweep
    moves them into the index, so the list never grows to the size at which a request would merge it."""
    from engine.persistence.search_index import merge_search_index, owned_gin_indexes
    from engine.services.case_list import CaseCriteria, cases_matching

    case, _ = register(session, users, today)
    session.commit()
    if session.get_bind().dialect.name != "postgresql":
        assert owned_gin_indexes(session, "cases") == [] and merge_search_index(session) == 0
        return
    assert owned_gin_indexes(session, "cases") == ["ix_cases_search_text_trgm"]
    sweep_once(db_engine, dispatch=False)
    assert merge_search_index(session) == 0  # nothing left pending: the sweep merged it
    second, _ = register(session, users, today, name="李四")
    session.commit()
    assert merge_search_index(session) >= 1  # a new case's entries wait in the pending list until merged
    assert merge_search_index(session) == 0
    found = session.scalars(cases_matching(case.agency_id, CaseCriteria(q="李四"), today, "postgresql")).all()
    assert [c.id for c in found] == [second.id]
