"""A request from registration to archive, through the services, for each outcome family."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from sqlalchemy import select

from engine import services
from engine.audit import verify_chain
from engine.errors import RuleViolation
from engine.models import AuditEvent, Letter

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
    assert actions[:3] == ["register_request", "confirm_receipt", "accept"]
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
