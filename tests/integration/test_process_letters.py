"""Every process letter the engine's data builders feed renders with the real letters package."""

from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader

from engine import services
from engine.services import letter_data

from .helpers_cases import accept, register, render

MON = date(2026, 3, 2)


def _text(letter) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(letter.pdf)).pages).replace(" ", "").replace("\n", "")


def _issue(session, case, letter_type, build, actor):
    return services.issue_letter(session, case, letter_type, build, renderer=render, actor=actor, today=MON)


def test_receipt_supplement_and_termination_notices_render_from_the_case(session, agency, users):
    case, code = register(session, users, MON)
    receipt = services.issue_letter(
        session, case, "receipt", lambda _n: letter_data.receipt_data(case, agency, query_code=code, issued_on=MON),
        renderer=render, actor=users["clerk"], today=MON, numbered=False)
    assert code in _text(receipt) and case.reg_no in _text(receipt)
    services.request_supplement(session, case.id, items=["请写明所需文件的文号"], period_working_days=10,
                                actor=users["clerk"], today=MON)
    notice = _issue(session, case, "supplement_notice",
                    lambda n: letter_data.supplement_notice_data(case, agency, doc_number=n, issued_on=MON),
                    users["clerk"])
    assert "请写明所需文件的文号" in _text(notice)
    assert notice.data_snapshot["period_working_days"] == 10
    services.close_lapsed(session, case.id, actor=users["clerk"], today=date(2026, 4, 30))
    ended = _issue(session, case, "termination_notice",
                   lambda n: letter_data.termination_notice_data(case, agency, doc_number=n, issued_on=MON,
                                                                 earlier_notice_number=notice.doc_number),
                   users["clerk"])
    assert notice.doc_number in _text(ended)


def test_consultation_letters_go_to_the_consulted_party(session, agency, users):
    case, _ = register(session, users, MON)
    accept(session, users, case, MON)
    for kind, letter_type, party in (("THIRD_PARTY", "third_party_consultation", "某建设有限公司"),
                                     ("AGENCY", "agency_consultation", "某市自然资源和规划局")):
        consultation = services.open_consultation(session, case.id, kind=kind, party_name=party,
                                                  subject="投标文件技术标", sent_on=MON, actor=users["handler"],
                                                  today=MON)
        assert letter_data.consultation_letter_type(consultation) == letter_type
        letter = _issue(session, case, letter_type,
                        lambda n, c=consultation: letter_data.consultation_data(case, agency, c, doc_number=n,
                                                                                issued_on=MON), users["handler"])
        text = _text(letter)
        assert party in text and "投标文件技术标" in text
        assert letter.data_snapshot["answer_due_on"] == consultation.answer_due_on.isoformat()


def test_extension_and_fee_notices_carry_the_new_dates_and_amounts(session, agency, users):
    case, _ = register(session, users, MON)
    accept(session, users, case, MON)
    original = case.due_on
    services.extend(session, case.id, working_days=15, reason="需要协调多个部门检索", actor=users["office_head"], today=MON)
    extension = _issue(session, case, "extension_notice",
                       lambda n: letter_data.extension_notice_data(case, agency, original_due_on=original, doc_number=n,
                                                                   issued_on=MON), users["office_head"])
    assert extension.data_snapshot["new_due_on"] == case.due_on.isoformat()
    services.issue_fee_notice(session, case.id, mode="PER_PAGE", units=150, actor=users["handler"], today=MON)
    fee = _issue(session, case, "fee_notice",
                 lambda n: letter_data.fee_notice_data(case, agency, doc_number=n, issued_on=MON,
                                                       payment_method="银行转账"), users["handler"])
    assert "1,700.00元" in _text(fee)  # 31–100: 70 × 10 + 101–150: 50 × 20
