"""Every action that the law answers with a letter issues it itself, rendered by the real letters package."""

from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader
from sqlalchemy import select

from engine import services
from engine.persistence.models import Letter

from .helpers_cases import accept, deliver, register, render

MON = date(2026, 3, 2)


def _text(letter) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(letter.pdf)).pages).replace(" ", "").replace("\n", "")


def _letters(session, case) -> list[Letter]:
    return session.scalars(select(Letter).where(Letter.case_id == case.id).order_by(Letter.id)).all()


def test_registration_issues_the_receipt_with_the_query_code(session, agency, users):
    case, code = register(session, users, MON)
    (receipt,) = _letters(session, case)
    assert receipt.letter_type == "receipt" and receipt.doc_number == ""
    assert code in _text(receipt) and case.reg_no in _text(receipt)


def test_supplement_and_lapse_issue_their_notices_and_the_termination_names_the_supplement_notice(
        session, agency, users):
    case, _ = register(session, users, MON)
    notice = services.request_supplement(session, case.id, items=["请写明所需文件的文号"], period_working_days=10,
                                         renderer=render, actor=users["clerk"], today=MON).letter
    assert notice.letter_type == "supplement_notice" and notice.doc_number
    assert "请写明所需文件的文号" in _text(notice)
    assert notice.data_snapshot["period_working_days"] == 10
    deliver(session, users, case, notice, MON)
    ended = services.close_lapsed(session, case.id, renderer=render, actor=users["clerk"],
                                  today=date(2026, 4, 30)).letter
    assert ended.letter_type == "termination_notice"
    assert notice.doc_number in _text(ended)
    assert [letter.letter_type for letter in _letters(session, case)] == ["receipt", "supplement_notice",
                                                                          "termination_notice"]


def test_consultations_issue_letters_to_the_consulted_party(session, agency, users):
    case, _ = register(session, users, MON)
    accept(session, users, case, MON)
    for kind, letter_type, party in (("THIRD_PARTY", "third_party_consultation", "某建设有限公司"),
                                     ("AGENCY", "agency_consultation", "某市自然资源和规划局")):
        result = services.open_consultation(session, case.id, kind=kind, party_name=party, subject="投标文件技术标",
                                            sent_on=MON, renderer=render, actor=users["handler"], today=MON)
        letter, notice = result.letters
        assert letter.letter_type == letter_type
        text = _text(letter)
        assert party in text and "投标文件技术标" in text
        # The party's 15 working days run from its receipt: no date computed from sending (条例32、34).
        assert "自收到本意见书之日起15个工作日内" in text and "answer_due_on" not in letter.data_snapshot
        assert result.record.answer_due_on is None
        # The applicant is told of the pause (征求意见告知书), without the party's name.
        assert notice.letter_type == "consultation_notice"
        assert "不计算在答复期限内" in _text(notice) and party not in _text(notice)


def test_extension_and_fee_notices_carry_the_new_dates_and_amounts(session, agency, users):
    case, _ = register(session, users, MON)
    accept(session, users, case, MON)
    original = case.due_on
    extension = services.extend(session, case.id, working_days=15, reason="需要协调多个部门检索", renderer=render,
                                actor=users["office_head"], today=MON).letter
    assert extension.letter_type == "extension_notice"
    assert extension.data_snapshot["new_due_on"] == case.due_on.isoformat()
    assert extension.data_snapshot["original_due_on"] == original.isoformat()
    fee = services.issue_fee_notice(session, case.id, mode="PER_PAGE", units=150, renderer=render,
                                    actor=users["handler"], today=MON).letter
    assert fee.letter_type == "fee_notice"
    assert "1,700.00元" in _text(fee)  # 31–100: 70 × 10 + 101–150: 50 × 20


def test_a_withdrawal_issues_the_termination_notice_unless_the_clerk_says_none_is_needed(session, agency, users):
    first, _ = register(session, users, MON)
    with_notice = services.withdraw(session, first.id, reason="申请人书面撤回", renderer=render, actor=users["clerk"],
                                    today=MON)
    assert [letter.letter_type for letter in with_notice.letters] == ["termination_notice"]
    assert "申请人书面撤回" in _text(with_notice.letter)
    second, _ = register(session, users, MON)
    without = services.withdraw(session, second.id, reason="申请人当面撤回并签字确认", issue_notice=False,
                                renderer=render, actor=users["clerk"], today=MON)
    assert without.letters == []
    assert [letter.letter_type for letter in _letters(session, second)] == ["receipt"]
