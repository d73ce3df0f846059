"""An operator with database access but without the audit key cannot change history or state unnoticed.

Each scenario is what an insider would do with SQL: rewrite an event and re-chain the rest, cut off the tail and
move the head back, delete a case with foreign keys bypassed, set a stage or an outcome, swap a signed reply for
another valid PDF. `verify_audit` must report each of them (all agencies, every problem), and an untouched history
must verify clean.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date

import pytest
from sqlalchemy import select, text

from engine import services
from engine.persistence.audit import event_digest, hashed_fields, legacy_event_digest, legacy_hashed_fields
from engine.persistence.audit_verify import make_checkpoint, verify_audit
from engine.persistence.models import Agency, AuditEvent, Case, CaseItem, ExemptionRecord, Letter, Upload
from engine.services.uploads import UploadedFile, attach

from .helpers_cases import accept, decide_partial, register, review_and_sign
from .test_archive_export import scan_png

MON = date(2026, 3, 2)


def _signed_case(session, users, name="张三"):
    case, _ = register(session, users, MON, name=name)
    accept(session, users, case, MON)
    decide_partial(session, users, case, MON)
    attach(session, case, UploadedFile("scan.png", scan_png()), kind="application", actor=users["clerk"])
    session.commit()
    review_and_sign(session, users, case, MON)
    return case


def _archived_case(session, users):
    case = _signed_case(session, users, name="李四")
    services.record_delivery(session, case.id, method="POST", delivered_on=date(2026, 3, 4), tracking_no="EMS1",
                             actor=users["clerk"], today=date(2026, 3, 4))
    services.archive(session, case.id, actor=users["archivist"], today=date(2026, 3, 10))
    session.commit()
    return case


def _sql(session, statement, **params):
    session.execute(text(statement), params)
    session.commit()
    session.expire_all()


def _problems(session, **kwargs) -> list[str]:
    return [str(p) for p in verify_audit(session, **kwargs).problems]


def _bypass_foreign_keys(session):
    if session.bind.dialect.name == "postgresql":
        session.execute(text("SET session_replication_role = replica"))
    else:
        session.commit()
        session.execute(text("PRAGMA foreign_keys=OFF"))


def test_an_untouched_history_with_letters_uploads_and_an_archived_case_verifies(session, agency, users):
    _signed_case(session, users)
    _archived_case(session, users)
    report = verify_audit(session)
    assert report.problems == []
    assert report.cases == 2 and report.letters >= 4 and report.uploads == 2 and report.events > 20


def test_an_event_rewritten_and_rechained_without_the_key_is_detected(session, agency, users):
    case = _signed_case(session, users)
    events = session.scalars(select(AuditEvent).where(AuditEvent.agency_id == agency.id)
                             .order_by(AuditEvent.seq)).all()
    victim = next(e for e in events if e.case_id == case.id and e.action == "record_decision")
    # The insider edits the reason and recomputes every later hash, with plain SHA-256 and with a guessed key.
    for guess in (None, b"gongkai"):
        prev = None
        for event in events:
            if event.seq == victim.seq:
                event.reason = "篡改后的理由"
            if event.seq >= victim.seq:
                event.prev_hash = prev if prev is not None else event.prev_hash
                event.hash = (legacy_event_digest(event.prev_hash, legacy_hashed_fields(event)) if guess is None
                              else event_digest(event.prev_hash, hashed_fields(event), guess))
            prev = event.hash
        row = session.get(Agency, agency.id)
        row.audit_head_hash = events[-1].hash
        session.commit()
        problems = _problems(session)
        assert any(f"序号 {victim.seq}）" in p and "密钥签名不符" in p for p in problems), problems
        assert sum("密钥签名不符" in p for p in problems) == len(events) - victim.seq + 1


def test_a_truncated_tail_with_the_head_moved_back_is_detected_against_the_checkpoint(session, agency, users):
    case = _signed_case(session, users)
    checkpoint = make_checkpoint(session)
    head = session.get(Agency, agency.id).audit_seq
    keep = head - 3
    kept_hash = session.scalar(select(AuditEvent.hash).where(AuditEvent.agency_id == agency.id,
                                                            AuditEvent.seq == keep))
    _sql(session, "DELETE FROM audit_events WHERE agency_id = :a AND seq > :s", a=agency.id, s=keep)
    _sql(session, "UPDATE agencies SET audit_seq = :s, audit_head_hash = :h WHERE id = :a", s=keep, h=kept_hash,
         a=agency.id)
    problems = _problems(session, checkpoint=checkpoint)
    assert any("截断" in p for p in problems), problems
    # Even without the checkpoint, the case no longer matches its (now) latest event.
    assert any(case.reg_no in p for p in _problems(session))


def test_a_checkpoint_file_that_was_edited_is_refused(session, agency, users):
    register(session, users, MON)
    checkpoint = make_checkpoint(session)
    forged = json.loads(json.dumps(checkpoint))
    forged["agencies"][0]["seq"] = 1
    assert any("签名不符" in p for p in _problems(session, checkpoint=forged))
    assert _problems(session, checkpoint=checkpoint) == []


def test_a_case_deleted_with_foreign_keys_bypassed_is_detected(session, agency, users):
    case = _signed_case(session, users)
    other, _ = register(session, users, MON, name="王五")
    case_id = case.id
    _bypass_foreign_keys(session)
    for table in ("confidentiality_reviews", "exemption_records", "deliveries", "letters", "uploads",
                  "case_items", "cases"):
        column = "id" if table == "cases" else "case_id"
        if table == "confidentiality_reviews":
            session.execute(text("DELETE FROM confidentiality_reviews WHERE item_id IN "
                                 "(SELECT id FROM case_items WHERE case_id = :c)"), {"c": case_id})
            continue
        session.execute(text(f"DELETE FROM {table} WHERE {column} = :c"), {"c": case_id})
    session.commit()
    session.expire_all()
    problems = _problems(session)
    assert any(f"案件 #{case_id}" in p and "删除" in p for p in problems), problems
    assert any("文书" in p and "删除" in p for p in problems)
    assert not any(other.reg_no in p for p in problems)


def test_a_stage_set_to_archived_without_an_event_is_detected(session, agency, users):
    case = _signed_case(session, users)
    _sql(session, "UPDATE cases SET stage = 'archived', archived_on = :d WHERE id = :c", d=MON, c=case.id)
    problems = _problems(session)
    assert len(problems) == 1 and case.reg_no in problems[0] and "状态" in problems[0]


def test_changed_outcomes_and_exemption_facts_are_detected(session, agency, users):
    case = _signed_case(session, users)
    second = _signed_case(session, users, name="赵六")
    _sql(session, "UPDATE case_items SET outcome = 'DISCLOSED' WHERE case_id = :c", c=case.id)
    _sql(session, "UPDATE exemption_records SET facts = '改过的事实' WHERE case_id = :c", c=second.id)
    problems = _problems(session)
    assert {case.reg_no, second.reg_no} == {r for r in (case.reg_no, second.reg_no) if any(r in p for p in problems)}
    assert session.scalar(select(CaseItem.outcome).where(CaseItem.case_id == case.id)) == "DISCLOSED"
    assert session.scalar(select(ExemptionRecord.facts).where(ExemptionRecord.case_id == second.id)) == "改过的事实"


def test_a_signed_reply_swapped_for_another_valid_pdf_with_matching_hash_and_size_is_detected(session, agency,
                                                                                              users):
    case = _signed_case(session, users)
    reply = session.scalar(select(Letter).where(Letter.case_id == case.id, Letter.letter_type == "reply"))
    forged = _other_pdf(session, case)  # the case's receipt: a valid PDF/A from the same renderer
    _sql(session, "UPDATE letters SET pdf = :p, sha256 = :s, size_bytes = :n WHERE id = :id", p=forged,
         s=hashlib.sha256(forged).hexdigest(), n=len(forged), id=reply.id)
    problems = _problems(session)
    assert any(f"文书 #{reply.id}" in p and "审计事件记录的 SHA-256 不符" in p for p in problems), problems


def _other_pdf(session, case) -> bytes:
    return session.scalar(select(Letter.pdf).where(Letter.case_id == case.id, Letter.letter_type == "receipt"))


def test_an_upload_whose_bytes_were_replaced_is_detected(session, agency, users):
    case = _signed_case(session, users)
    upload = session.scalar(select(Upload).where(Upload.case_id == case.id))
    _sql(session, "UPDATE uploads SET content = :c WHERE id = :id", c=b"\x89PNG\r\n\x1a\nother", id=upload.id)
    problems = _problems(session)
    assert any(f"上传材料 #{upload.id}" in p and "内容被替换" in p for p in problems), problems


def test_every_agency_is_checked_and_every_problem_reported(session, agency, users, password_hash, monkeypatch):
    import engine.services.accounts as accounts
    from engine.services.accounts import add_agency, add_department, add_user

    other = add_agency(session, "OTHER", "另一机关", review_body="某市人民政府", court="某市中级人民法院",
                       contact="某市某路1号")
    add_department(session, other, "办公室")
    monkeypatch.setattr(accounts, "hash_password", lambda _pw: password_hash)
    other_users = {role: add_user(session, other, f"o_{role}", "demo-password-1", [role]) for role in
                   ("clerk", "handler", "legal_reviewer", "archivist")}
    session.commit()
    mine = _signed_case(session, users)
    theirs, _ = register(session, other_users, MON, name="钱七")
    _sql(session, "UPDATE cases SET stage = 'archived' WHERE id IN (:a, :b)", a=mine.id, b=theirs.id)
    _sql(session, "UPDATE audit_events SET actor_name = '伪造' WHERE agency_id = :a AND seq = 1", a=other.id)
    problems = _problems(session)
    assert any(p.startswith("机关 TESTCITY") and mine.reg_no in p for p in problems)
    assert any(p.startswith("机关 OTHER") and theirs.reg_no in p for p in problems)
    assert any(p.startswith("机关 OTHER") and "序号 1）" in p for p in problems)


def test_a_case_inserted_without_any_event_is_detected(session, agency, users):
    case = _signed_case(session, users)
    _sql(session, "UPDATE audit_events SET case_id = NULL WHERE case_id = :c", c=case.id)
    problems = _problems(session)
    assert any(case.reg_no in p and "没有任何审计事件" in p for p in problems)


@pytest.mark.parametrize("change", ["applicant", "handler"])
def test_an_applicant_or_assignment_changed_in_sql_is_detected(session, agency, users, change):
    case = _signed_case(session, users)
    if change == "applicant":
        _sql(session, "UPDATE applicants SET name = '冒名' WHERE id = :a", a=case.applicant_id)
    else:
        _sql(session, "UPDATE cases SET handler_id = :u WHERE id = :c", u=users["clerk"].id, c=case.id)
    assert any(case.reg_no in p for p in _problems(session))


def test_a_ledger_import_verifies_and_an_imported_case_changed_in_sql_is_detected(session, agency, users, today):
    from engine.services.ledger import import_ledger, read_csv_bytes

    header = "申请人类型,申请人,申请渠道,收到日期,申请内容,答复日期,办理结果\n"
    body = "自然人,周八,当面,2025-03-03,某文件,2025-03-20,DISCLOSED\n自然人,吴九,网络,2025-04-01,另一文件,,\n"
    import_ledger(session, session.get(Agency, agency.id), read_csv_bytes((header + body).encode(), "台账.csv"),
                  actor=None, today=today)
    session.commit()
    assert _problems(session) == []
    imported = session.scalars(select(Case).where(Case.imported.is_(True)).order_by(Case.id)).all()
    _sql(session, "UPDATE cases SET report_outcome = 'NOT_HELD' WHERE id = :c", c=imported[0].id)
    problems = _problems(session)
    assert len(problems) == 1 and imported[0].reg_no in problems[0]
