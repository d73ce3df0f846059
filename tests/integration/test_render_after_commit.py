"""A letter rendered after its action's commit (issue 14): fixed in the transaction, frozen once by its job, proven
by the audit chain; pending until then, and never handed out as empty bytes."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session as OrmSession

from engine import services
from engine.errors import WorkflowError
from engine.persistence import db as dbmod
from engine.persistence.audit_verify import verify_audit
from engine.persistence.models import Agency, AuditEvent, Case, Job, Letter, User
from engine.services import jobs
from engine.services.downloads import letter_for_download
from engine.services.issuing import RENDER_JOB, is_pending
from engine.services.signing_keys import create_signing_key
from webui.background import kinds  # noqa: F401  (registers the render_letter job body)
from webui.letters_adapter import render_pending

from ..conftest import PG_URL
from . import test_web_support
from .api_harness import api_app_fixture, api_fixture, tokens_fixture  # noqa: F401
from .helpers_cases import registration, render, sql_statements

MON = date(2026, 3, 2)
web_app = test_web_support.web_app


def _register_later(session, users, **kw):
    return services.register_request(session, registration(submitted_on=MON, **kw), renderer=render,
                                     actor=users["clerk"], today=MON, render_later=True)


def _render_job(session, letter_id: int) -> Job:
    return session.scalar(select(Job).where(Job.kind == RENDER_JOB, Job.dedupe_key == f"{RENDER_JOB}:{letter_id}"))


def test_receipt_is_fixed_in_the_transaction_and_frozen_by_its_job(session, db_engine, agency, users):
    create_signing_key(session, agency, now=datetime.now(UTC))
    result = _register_later(session, users)
    receipt = result.letter
    session.commit()
    assert is_pending(receipt) and receipt.pdf == b"" and receipt.size_bytes == 0
    # Everything but the bytes is fixed by the registration: template, data (with the code), wording, key.
    assert receipt.template_version.startswith("receipt@")
    assert receipt.data_snapshot["query_code"] == result.query_code
    assert result.case.reg_no in json.dumps(receipt.data_snapshot, ensure_ascii=False)
    assert receipt.signing_key_id is not None and receipt.wording_version is not None
    job = _render_job(session, receipt.id)
    assert job is not None and job.state == "queued"

    assert jobs.perform(db_engine, job.id) == "done"
    session.expire_all()
    frozen = session.get(Letter, receipt.id)
    assert not is_pending(frozen)
    assert frozen.pdf.startswith(b"%PDF") and frozen.sha256 == hashlib.sha256(frozen.pdf).hexdigest()
    assert frozen.size_bytes == len(frozen.pdf)
    assert b"/ByteRange" in frozen.pdf  # signed with the key fixed at issue
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "render_letter"))
    assert event.case_id == frozen.case_id and event.agency_id == agency.id
    assert event.changes["letter_id"] == frozen.id and event.changes["sha256"] == frozen.sha256
    report = verify_audit(session)
    assert report.intact, [str(p) for p in report.problems]
    assert report.pending_letters == 0


def test_a_job_run_again_after_success_changes_nothing(session, db_engine, agency, users):
    receipt = _register_later(session, users).letter
    session.commit()
    job_id = _render_job(session, receipt.id).id
    assert jobs.perform(db_engine, job_id) == "done"
    session.expire_all()
    first = session.get(Letter, receipt.id)
    pdf, sha, events = first.pdf, first.sha256, session.get(Agency, agency.id).audit_seq
    # The same job handed out again (a retry after its worker was presumed dead), and a direct second render.
    session.execute(update(Job).where(Job.id == job_id).values(state="queued"))
    session.commit()
    assert jobs.perform(db_engine, job_id) == "done"
    assert render_pending(session, receipt.id) is False
    session.commit()
    session.expire_all()
    again = session.get(Letter, receipt.id)
    assert (again.pdf, again.sha256) == (pdf, sha)
    assert session.get(Agency, agency.id).audit_seq == events
    assert session.get(Job, job_id).result["rendered"] is False


def test_verify_accepts_a_pending_letter_and_says_so_but_not_one_whose_bytes_disagree(session, db_engine, agency,
                                                                                       users):
    first = _register_later(session, users, name="甲").letter
    second = _register_later(session, users, name="乙").letter
    session.commit()
    report = verify_audit(session)
    assert report.intact, [str(p) for p in report.problems]
    assert report.pending_letters == 2

    assert render_pending(session, first.id) is True
    session.commit()
    report = verify_audit(session)
    assert report.intact and report.pending_letters == 1

    # Bytes put into a pending letter behind the engine's back: its event recorded no hash for them.
    session.execute(update(Letter).where(Letter.id == second.id).values(
        pdf=b"%PDF-forged", sha256=hashlib.sha256(b"%PDF-forged").hexdigest(), size_bytes=11))
    # A rendered letter turned back into a "pending" one to hide a swap: its render event recorded the hash.
    session.execute(update(Letter).where(Letter.id == first.id).values(pdf=b"", sha256="", size_bytes=0))
    session.commit()
    report = verify_audit(session)
    subjects = " ".join(str(p) for p in report.problems)
    assert not report.intact
    assert f"文书 #{second.id}" in subjects and f"文书 #{first.id}" in subjects


def test_a_template_changed_between_issue_and_rendering_is_used_and_recorded(session, db_engine, agency, users):
    """A deploy between the registration and its render job: nobody has seen the letter, so it is rendered with the
    template in force; the letter and its event say which version that was and which it was issued under."""
    receipt = _register_later(session, users).letter
    current = receipt.template_version
    session.execute(update(Letter).where(Letter.id == receipt.id).values(template_version="receipt@before-deploy"))
    session.commit()
    assert jobs.perform(db_engine, _render_job(session, receipt.id).id) == "done"
    session.expire_all()
    frozen = session.get(Letter, receipt.id)
    assert not is_pending(frozen) and frozen.template_version == current
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "render_letter"))
    assert event.changes["template_version"] == current
    assert event.changes["template_version_at_issue"] == "receipt@before-deploy"
    report = verify_audit(session)
    assert report.intact, [str(p) for p in report.problems]


def test_a_letter_whose_frozen_data_the_template_in_force_refuses_stays_pending(session, db_engine, agency, users):
    """A template in force that cannot render the frozen data fails the job with the reason and changes nothing:
    the letter stays pending (verify counts it), never half-written."""
    receipt = _register_later(session, users).letter
    broken = {k: v for k, v in receipt.data_snapshot.items() if k != "registration_number"}
    session.execute(update(Letter).where(Letter.id == receipt.id).values(data_snapshot=broken))
    session.commit()
    with pytest.raises(Exception, match="文书无法生成"):
        render_pending(session, receipt.id)
    session.rollback()
    session.expire_all()
    assert is_pending(session.get(Letter, receipt.id))
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "render_letter")) is None


def test_tampering_with_a_letter_rendered_after_commit_fails_verify(session, agency, users):
    receipt = _register_later(session, users).letter
    session.commit()
    render_pending(session, receipt.id)
    session.commit()
    forged = session.get(Letter, receipt.id).pdf.replace(b"%PDF", b"%PDX", 1)
    session.execute(update(Letter).where(Letter.id == receipt.id).values(pdf=forged))
    session.commit()
    report = verify_audit(session)
    assert any(f"文书 #{receipt.id}" in str(p) for p in report.problems)


def test_a_pending_letter_is_refused_as_being_prepared_not_served_empty(session, agency, users):
    receipt = _register_later(session, users).letter
    session.commit()
    with pytest.raises(WorkflowError) as refused:
        letter_for_download(session, receipt.id, users["clerk"])
    assert "正在生成" in refused.value.message
    render_pending(session, receipt.id)
    session.commit()
    served = letter_for_download(session, receipt.id, users["clerk"])
    assert served.pdf.startswith(b"%PDF")


def test_case_file_export_waits_for_pending_letters(session, agency, users):
    from engine.services.casefile_collect import ensure_letters_rendered

    case = _register_later(session, users).case
    session.commit()
    with pytest.raises(WorkflowError, match="正在生成"):
        ensure_letters_rendered(session, case)
    render_pending(session, session.scalar(select(Letter.id).where(Letter.case_id == case.id)))
    session.commit()
    ensure_letters_rendered(session, case)


def test_confirm_receipt_can_render_after_commit(session, db_engine, agency, users):
    case = services.register_request(session, registration(submitted_on=MON, channel="plain_letter"), renderer=render,
                                     actor=users["clerk"], today=MON).case
    assert case.stage == "received"
    result = services.confirm_receipt(session, case.id, confirmed_on=MON, renderer=render, actor=users["clerk"],
                                      today=MON, render_later=True)
    session.commit()
    assert is_pending(result.letter) and result.letter.data_snapshot["query_code"] == result.query_code
    assert jobs.perform(db_engine, _render_job(session, result.letter.id).id) == "done"
    session.expire_all()
    assert not is_pending(session.get(Letter, result.letter.id))
    assert verify_audit(session).intact


def test_the_letter_issued_webhook_waits_for_the_bytes(session, db_engine, agency, users):
    from engine.services.case_events import CaseEvent
    from engine.services.webhooks import event_payloads

    receipt = _register_later(session, users).letter
    case = session.get(Case, receipt.case_id)
    issued = CaseEvent(case, "issue_letter", users["clerk"], case.stage, case.stage, {}, letter=receipt)
    assert not [p for p in event_payloads(agency, issued, occurred_at=datetime.now(UTC))
                if p["type"] == "letter.issued"]
    render_pending(session, receipt.id)
    rendered = CaseEvent(case, "render_letter", None, case.stage, case.stage, {}, letter=receipt)
    [payload] = [p for p in event_payloads(agency, rendered, occurred_at=datetime.now(UTC))
                 if p["type"] == "letter.issued"]
    assert payload["letter"]["sha256"] == receipt.sha256 != ""


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="needs GONGKAI_TEST_DATABASE_URL (PostgreSQL)")
def test_parallel_registrations_with_receipts_rendered_meanwhile_keep_numbers_and_the_chain(db_url, session, agency,
                                                                                             users):
    clerk_id = users["clerk"].id
    engine = dbmod.make_engine(db_url, pool_size=30, max_overflow=0, pool_timeout=600)
    done = threading.Event()
    errors: list[BaseException] = []

    def register(i):
        with dbmod.transaction(engine) as s:
            services.register_request(s, registration(submitted_on=MON, name=f"申请人{i}", id_number=""),
                                      renderer=render, actor=s.get(User, clerk_id), today=MON, render_later=True)

    def renderer_loop():
        while not done.is_set():
            with dbmod.transaction(engine) as s:
                job_id = jobs.next_queued(s, kinds=(RENDER_JOB,))
            if job_id is None:
                done.wait(0.05)
            else:
                jobs.perform(engine, job_id)

    def wrapped(i):
        try:
            register(i)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    worker = threading.Thread(target=renderer_loop)
    worker.start()
    try:
        threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        done.set()
        worker.join()
        assert errors == []
        with dbmod.transaction(engine) as s:
            for job_id in s.scalars(select(Job.id).where(Job.kind == RENDER_JOB, Job.state == "queued")).all():
                jobs.perform(engine, job_id)
        with dbmod.transaction(engine) as s:
            assert sorted(s.scalars(select(Case.reg_seq))) == list(range(1, 21))
            assert s.scalar(select(text("count(*)")).select_from(Letter).where(Letter.sha256 == "")) == 0
            report = verify_audit(s)
            assert report.intact, [str(p) for p in report.problems]
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="needs GONGKAI_TEST_DATABASE_URL (PostgreSQL)")
@pytest.mark.parametrize("action", ["reveal_applicant", "upload_file"])
def test_an_action_that_only_records_an_event_waits_for_a_render_job_on_the_same_case(db_url, session, agency, users,
                                                                                      action):
    """Showing the applicant's full details, or adding a file, changes nothing in the case row but records an event
    with the case's state digest. While a receipt's render job holds the case (its bytes not yet committed), the
    event waits for it, so its digest includes the rendered letter and the chain verifies."""
    from engine.services.uploads import UploadedFile

    receipt = _register_later(session, users).letter
    session.commit()
    case_id, clerk_id = receipt.case_id, users["clerk"].id
    engine = dbmod.make_engine(db_url)
    rendering = OrmSession(engine)
    try:
        assert render_pending(rendering, receipt.id) is True   # the case row is locked until this commits
        finished = threading.Event()
        errors: list[BaseException] = []

        def reveal():
            try:
                with dbmod.transaction(engine) as s:
                    clerk = s.get(User, clerk_id)
                    if action == "reveal_applicant":
                        services.reveal_applicant(s, case_id, actor=clerk, today=MON)
                    else:
                        services.upload_file(s, case_id, file=UploadedFile(filename="补充.pdf", content=b"%PDF-1.4 y"),
                                             kind="attachment", actor=clerk, today=MON)
            except BaseException as exc:  # noqa: BLE001 - asserted below
                errors.append(exc)
            finished.set()

        thread = threading.Thread(target=reveal)
        thread.start()
        assert not finished.wait(1.0), ("the event was recorded beside the render job's uncommitted change", errors)
        rendering.commit()
        thread.join(30)
        assert finished.is_set() and errors == []
    finally:
        rendering.close()
        engine.dispose()
    session.expire_all()
    report = verify_audit(session)
    assert report.intact, [str(p) for p in report.problems]
    assert report.pending_letters == 0


def test_registration_digests_read_fewer_tables_but_agree_with_the_full_read(session, agency, users, monkeypatch):
    """Registration takes its number last: its events' states are read before the number exists and patched with
    it, and the confirmation's changes to the row are written with the number (held back in the session's copy).
    Every state it reads (4 tables) must equal the full read (11 tables) at that point with the values held back so
    far, and every event's digest must be that full state with the number the case got — what a full read gives
    once the number and the held values are in the row."""
    from engine.persistence import audit_state
    from engine.services import common
    from engine.services.registration import PROVISIONAL_REG_NO
    from engine.services.uploads import UploadedFile

    shortcuts = []
    quick_states = audit_state.case_states
    held: dict = {}
    hold_back = common.hold_back_changes

    def holding(record):  # what the registration leaves to write with the number
        values = hold_back(record)
        held.update(values)
        return values

    def both(session_, case_ids):  # every state registration reads, beside the one read from all tables
        quick = quick_states(session_, case_ids)
        noted = session_.info.pop(audit_state._NEW_CASES, None)
        try:
            full = {case_id: audit_state.patch_case_state(state, **{k: v for k, v in held.items()
                                                                     if k in audit_state.CASE_FIELDS})
                    for case_id, state in quick_states(session_, case_ids).items()}
            shortcuts.append((bool(noted) and set(case_ids) <= set(noted), quick, full))
        finally:
            if noted is not None:
                session_.info[audit_state._NEW_CASES] = noted
        return quick

    monkeypatch.setattr(audit_state, "case_states", both)
    monkeypatch.setattr(common, "hold_back_changes", holding)
    result = services.register_request(session, registration(submitted_on=MON), renderer=render,
                                       actor=users["clerk"], today=MON, render_later=True,
                                       application_file=UploadedFile(filename="申请表.pdf", content=b"%PDF-1.4 x"))
    monkeypatch.undo()
    assert {"received_on", "stage", "due_on"} <= set(held)  # the confirmation's, held back …
    assert shortcuts and all(used for used, _quick, _full in shortcuts)  # the shortcut was taken …
    assert all(quick == full for _used, quick, full in shortcuts)       # … and agreed with the full read
    # The note ends with the action: a later action in the same transaction (the demo runs several) may add any
    # kind of record, so its digests read every table.
    case = result.case
    assert case.id not in (session.info.get(audit_state._NEW_CASES) or {})
    events = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)).all()
    assert [e.action for e in events] == ["register_request", "add_upload", "confirm_receipt", "issue_letter"]
    assert [e.state_digest for e in events] == [
        audit_state.state_digest(audit_state.patch_case_state(full[case.id], reg_no=case.reg_no,
                                                              reg_seq=case.reg_seq))
        for _used, _quick, full in shortcuts]
    # The intermediate states differ (stage, receipt date, upload, letter), each is its own.
    assert len(set(e.state_digest for e in events)) == len(events)
    assert events[-1].state_digest == audit_state.case_state_digest(session, case.id)
    # No provisional number is left anywhere: row, search text, receipt snapshot, events.
    assert case.reg_seq >= 1 and not case.reg_no.startswith(PROVISIONAL_REG_NO)
    assert events[0].changes["reg_no"] == case.reg_no
    assert case.reg_no in json.dumps(result.letter.data_snapshot, ensure_ascii=False)
    assert PROVISIONAL_REG_NO not in json.dumps(result.letter.data_snapshot, ensure_ascii=False)
    assert PROVISIONAL_REG_NO not in case.search_text
    assert not any(PROVISIONAL_REG_NO in json.dumps(e.changes, ensure_ascii=False) for e in events)
    session.commit()
    assert verify_audit(session).intact


# What a registration runs while the agency's number counter is locked (from its UPDATE … RETURNING up to the end
# of the action; the caller's COMMIT follows): the UPDATE itself, the case row (number, search text), the receipt's
# snapshot, the chain head's lock and update, the events' insert, and the reactions (webhook endpoints for the
# events that announce something, once per transaction). Before the number was taken last: 37 on SQLite, 45
# with an application file; then 14 (the search text's letter numbers read back, webhook endpoints read for every
# event), then 12 (endpoints read for each event that announces something, the notification's event id read with no
# channel to the applicant).
# From the counter's UPDATE to the commit: the number's patch (letter, case), the chain head, the events and the head's
# update; then without the session's unit of work: SQLite runs them one after the other (the counter, the head, the
# case, the letter, the head's update, then each event: one more with an application file); PostgreSQL locks the
# counter and the head in one statement and writes the rest in one more.
STATEMENTS_UNDER_THE_COUNTER_LOCK = {"sqlite": {False: 8, True: 9}, "postgresql": {False: 2, True: 2}}


def _statements_around_the_counter(session, register) -> tuple[list[str], list[str]]:
    """The statements `register` sends before the number counter is locked, and from that lock on."""
    seen = [" ".join(statement.split()) for statement in sql_statements(session, register)]
    first = next(i for i, s in enumerate(seen) if "UPDATE number_sequences" in s)
    return seen[:first], seen[first:]


@pytest.mark.parametrize("with_file", [False, True])
def test_registration_holds_the_number_counter_for_a_few_statements(session, agency, users, with_file):
    from engine.services.uploads import UploadedFile

    # The year's counter exists (only the year's first number creates it).
    services.register_request(session, registration(submitted_on=MON), renderer=render, actor=users["clerk"],
                              today=MON, render_later=True)
    session.commit()  # the measured registration runs in a transaction of its own, as each request does
    before_lock, under_lock = _statements_around_the_counter(session, lambda: services.register_request(
        session, registration(submitted_on=MON), renderer=render, actor=users["clerk"], today=MON,
        render_later=True,
        application_file=UploadedFile(filename="申请表.pdf", content=b"%PDF-1.4 x") if with_file else None))
    dialect = session.get_bind().dialect.name
    assert len(under_lock) <= STATEMENTS_UNDER_THE_COUNTER_LOCK[dialect][with_file], "\n".join(under_lock)
    assert sum("UPDATE number_sequences" in s for s in under_lock) == 1
    assert not any("INSERT INTO number_sequences" in s for s in under_lock)
    # The chain head is locked once, after the counter (the order every numbering action keeps: on PostgreSQL the
    # same statement, whose outer SELECT locks the agency's row joined to the counter's), and the events go in
    # with it.
    head_locks = [s for s in under_lock if "FROM agencies" in s or "JOIN agencies" in s]
    if dialect == "postgresql":
        assert head_locks == under_lock[:1] and head_locks[0].startswith("WITH counter AS (UPDATE number_sequences")
        assert head_locks[0].endswith("FOR NO KEY UPDATE OF agencies")
    else:
        assert len(head_locks) == 1 and head_locks[0].startswith("SELECT") and under_lock.index(head_locks[0]) == 1
    assert sum("INSERT INTO audit_events" in s for s in under_lock) == (1 if dialect == "postgresql" else
                                                                        2 + with_file + 1)
    # Two stage changes announced: the endpoints are read once, before the counter is locked.
    assert sum("FROM webhook_endpoints" in s for s in before_lock) == 1
    assert not any("FROM webhook_endpoints" in s for s in under_lock)
    # The session's copies were told what the rows now say: the commit has nothing left to write or look at.
    assert not session.dirty and not session.new
    session.commit()
    assert verify_audit(session).intact


def test_the_api_registers_with_the_receipt_pending_until_its_job_runs(api, session, db_engine):
    from tests.integration.api_harness import online_registration

    status, registered = api["clerk"].post("/cases", online_registration())
    assert status == 201, registered
    case_id = registered["case"]["id"]
    [receipt] = registered["case"]["letters"]
    assert receipt["pending"] is True and receipt["sha256"] == "" and receipt["size_bytes"] == 0
    status, refused = api["clerk"].get(f"/cases/{case_id}/letters/{receipt['id']}.pdf")
    assert status == 409 and "正在生成" in refused["detail"]

    assert jobs.perform(db_engine, _render_job(session, receipt["id"]).id) == "done"
    status, case = api["clerk"].get(f"/cases/{case_id}")
    [frozen] = case["letters"]
    assert frozen["pending"] is False and len(frozen["sha256"]) == 64
    status, pdf = api["clerk"].get(f"/cases/{case_id}/letters/{receipt['id']}.pdf")
    assert status == 200 and hashlib.sha256(pdf).hexdigest() == frozen["sha256"]


def test_a_receipt_still_being_rendered_does_not_hold_up_archiving_and_is_frozen_afterwards(session, agency, users):
    """Archiving does not wait for the worker (an integrator may archive at once); the case file export does, and
    the receipt rendered after archiving is frozen and recorded like any other."""
    from engine.services.casefile_collect import ensure_letters_rendered
    from tests.integration import helpers_cases as h

    case = _register_later(session, users).case
    session.commit()
    h.accept(session, users, case, MON)
    h.decide_disclosed(session, users, case, MON)
    h.review_and_sign(session, users, case, MON)
    services.record_delivery(session, case.id, method="POST", delivered_on=MON, tracking_no="EMS1",
                             actor=users["clerk"], today=MON)
    services.archive(session, case.id, actor=users["archivist"], today=MON)
    session.commit()
    with pytest.raises(WorkflowError, match="正在生成"):
        ensure_letters_rendered(session, case)
    receipt_id = session.scalar(select(Letter.id).where(Letter.case_id == case.id, Letter.letter_type == "receipt"))
    render_pending(session, receipt_id)
    session.commit()
    session.expire_all()
    assert not is_pending(session.get(Letter, receipt_id)) and session.get(Case, case.id).stage == "archived"
    ensure_letters_rendered(session, case)
    assert verify_audit(session).intact



def test_the_case_page_shows_a_pending_receipt_as_being_prepared_and_links_it_once_rendered(web_app, session,
                                                                                           users):
    from tests.integration.test_web_support import logged_in

    case = _register_later(session, users).case
    session.commit()
    receipt_id = session.scalar(select(Letter.id).where(Letter.case_id == case.id, Letter.letter_type == "receipt"))
    clerk = logged_in(web_app, "clerk")
    page = clerk.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "正在生成" in page and f"/letters/{receipt_id}" not in page
    render_pending(session, receipt_id)
    session.commit()
    page = clerk.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "正在生成" not in page and f"/letters/{receipt_id}" in page


@pytest.mark.parametrize("render_later", [True, False], ids=["number-last", "number-first"])
def test_the_callers_answer_is_made_before_the_number_is_taken_and_carries_the_number(session, agency, users,
                                                                                      render_later):
    # The API's answer is made while the number is still provisional, so that the counter is not held meanwhile; the
    # real number is then put in wherever the provisional one stood (also inside text, lists and nested data).
    services.register_request(session, registration(submitted_on=MON), renderer=render, actor=users["clerk"],
                              today=MON, render_later=True)
    session.commit()  # the year's counter exists
    seen: list[str] = []
    numbered_when_answered = []

    def answer(result):
        numbered_when_answered.append(any("number_sequences" in s for s in seen))
        return {"reg_no": result.case.reg_no, "said": [f"已登记（{result.case.reg_no}）", {"n": result.case.reg_no}],
                "version": result.case.version, "letters": len(result.letters)}

    from sqlalchemy import event as sa_event

    bind = session.connection()
    sa_event.listen(bind, "before_cursor_execute", lambda _c, _cur, statement, *_a: seen.append(statement))
    result = services.register_request(session, registration(submitted_on=MON), renderer=render,
                                       actor=users["clerk"], today=MON, render_later=render_later, answer=answer)
    case = result.case
    assert numbered_when_answered == [not render_later]
    assert result.answer == {"reg_no": case.reg_no, "said": [f"已登记（{case.reg_no}）", {"n": case.reg_no}],
                             "version": case.version, "letters": 1}
    from engine.services.registration import PROVISIONAL_REG_NO

    assert not case.reg_no.startswith(PROVISIONAL_REG_NO)
    session.commit()
    session.expire_all()
    assert session.get(Case, case.id).version == result.answer["version"]  # the version the answer names is kept
    assert verify_audit(session).intact
