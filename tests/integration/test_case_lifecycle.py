"""A request from registration to archive, through the services, for each outcome family."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from sqlalchemy import select

from engine import services
from engine.errors import RuleViolation
from engine.persistence.audit import verify_chain
from engine.persistence.models import AuditEvent, Letter

from .helpers_cases import accept, decide_disclosed, decide_partial, register, review_and_sign

TODAY = date(2026, 3, 2)


def test_a_partial_disclosure_goes_from_registration_to_archive(session, agency, users):
    case, code = register(session, users, TODAY)
    assert case.stage == "registered"
    assert case.received_on == TODAY
    assert case.reg_no == "依申请〔2026〕1号"
    assert case.due_on == date(2026, 3, 30)  # 20 working days after 2 March 2026
    accept(session, users, case, TODAY)
    decide_partial(session, users, case, TODAY)
    letter = review_and_sign(session, users, case, TODAY)
    assert case.stage == "signed"
    assert letter.doc_number == "测政办公开〔2026〕1号"
    assert hashlib.sha256(letter.pdf).hexdigest() == letter.sha256
    assert letter.data_snapshot["items"][0]["outcome"] == "PARTIAL"
    services.record_delivery(session, case.id, method="POST", delivered_on=date(2026, 3, 4), tracking_no="EMS123",
                             actor=users["clerk"], today=date(2026, 3, 4))
    session.commit()
    assert case.stage == "replied"
    assert case.report_outcome == "PARTIAL"
    assert case.finished_on == date(2026, 3, 4)
    services.archive(session, case.id, actor=users["archivist"], today=date(2026, 3, 10))
    session.commit()
    assert case.stage == "archived"
    assert case.retention == "Y30"
    assert verify_chain(session, agency) is None
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case.id)
                              .order_by(AuditEvent.seq)).all()
    assert actions[:4] == ["register_request", "confirm_receipt", "issue_letter", "accept"]  # the receipt
    assert "sign" in actions and actions[-1] == "archive"


def test_signing_is_refused_until_every_exemption_is_confirmed(session, agency, users):
    case, _ = register(session, users, TODAY)
    accept(session, users, case, TODAY)
    decide_partial(session, users, case, TODAY)
    services.submit_for_review(session, case.id, actor=users["handler"], today=TODAY)
    with pytest.raises(RuleViolation, match="尚未经法制审核确认"):
        services.sign_reply(session, case.id, renderer=lambda *a, **k: None, actor=users["legal_reviewer"],
                            today=TODAY)


def test_a_disclosure_is_signed_without_exemption_records(session, agency, users):
    case, _ = register(session, users, TODAY)
    accept(session, users, case, TODAY)
    decide_disclosed(session, users, case, TODAY)
    letter = review_and_sign(session, users, case, TODAY)
    assert session.get(Letter, letter.id).letter_type == "reply"
    assert case.stage == "signed"


def test_a_correction_is_a_new_letter_that_supersedes_the_frozen_one(session, agency, users):
    from .helpers_cases import render

    case, _ = register(session, users, TODAY)
    accept(session, users, case, TODAY)
    decide_disclosed(session, users, case, TODAY)
    signed = review_and_sign(session, users, case, TODAY)
    frozen_bytes, frozen_hash = signed.pdf, signed.sha256
    with pytest.raises(Exception, match="更正理由"):
        services.supersede_letter(session, case.id, letter_id=signed.id, reason=" ", renderer=render,
                                  actor=users["legal_reviewer"], today=TODAY)
    with pytest.raises(Exception, match="不能更正的字段"):
        services.supersede_letter(session, case.id, letter_id=signed.id, reason="改文号", renderer=render,
                                  corrections={"doc_number": "x"}, actor=users["legal_reviewer"], today=TODAY)
    new = services.supersede_letter(session, case.id, letter_id=signed.id, reason="原答复书申请人姓名有误",
                                    corrections={"recipient": "张叁"}, renderer=render,
                                    actor=users["legal_reviewer"], today=TODAY).letter
    session.commit()
    assert new.data_snapshot["recipient"] == "张叁" and new.signed_by_id == users["legal_reviewer"].id
    with pytest.raises(Exception, match="已被更正过"):
        services.supersede_letter(session, case.id, letter_id=signed.id, reason="再改", renderer=render,
                                  actor=users["legal_reviewer"], today=TODAY)
    old = session.get(Letter, signed.id)
    assert (old.pdf, old.sha256) == (frozen_bytes, frozen_hash)  # never re-rendered
    assert new.supersedes_id == old.id and new.doc_number != old.doc_number
    from engine.services.reply import current_reply

    assert current_reply(session, case).id == new.id


def test_a_review_result_arriving_after_archiving_is_appended_as_a_note(session, agency, users):
    from engine.persistence.models import ArchiveNote, LegalChallenge

    case, _ = register(session, users, TODAY)
    accept(session, users, case, TODAY)
    decide_partial(session, users, case, TODAY)
    review_and_sign(session, users, case, TODAY)
    services.record_delivery(session, case.id, method="POST", delivered_on=TODAY, actor=users["clerk"], today=TODAY)
    services.archive(session, case.id, actor=users["archivist"], today=TODAY)
    filed = date(2026, 4, 1)
    services.record_review_or_litigation(session, case.id, kind="REVIEW", filed_on=filed, result="UPHELD",
                                         decided_on=date(2026, 5, 20), actor=users["archivist"],
                                         today=date(2026, 5, 21))
    session.commit()
    assert session.scalar(select(LegalChallenge.result).where(LegalChallenge.case_id == case.id)) == "UPHELD"
    note = session.scalar(select(ArchiveNote).where(ArchiveNote.case_id == case.id))
    assert "行政复议" in note.text and "结果维持" in note.text
    assert case.stage == "archived"
