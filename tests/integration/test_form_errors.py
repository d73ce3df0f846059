"""Forms keep the work typed and name every problem beside its field, on the web and through the API."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from engine import services
from engine.errors import InvalidInput
from engine.persistence.models import Case
from tests.conftest import TODAY
from tests.integration import helpers_cases as h
from tests.integration import test_web_support as support
from tests.integration.test_web_support import logged_in, registration_form

web_app = support.web_app


def _errors_beside_fields(page: str) -> dict[str, str]:
    """Field name → the error shown in the same label."""
    found = {}
    for label in re.findall(r'<label class="field[^"]*">.*?</label>', page, re.S):
        name = re.search(r'name="([^"]+)"', label)
        error = re.search(r'<span class="field-error" role="alert">([^<]+)</span>', label)
        if name and error:
            found[name.group(1)] = error.group(1)
    return found


def test_every_bad_contact_detail_is_shown_beside_its_field_at_once_and_the_input_is_kept(web_app, session, users):
    clerk = logged_in(web_app, "clerk")
    response = clerk.post("/register", data=registration_form(
        phone="abc", email="not-an-email", postal_code="12", id_number="110105194912310021",
        submitted_on="2026-02-31", item_description=["某小区改造批复"]))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    errors = _errors_beside_fields(page)
    assert set(errors) == {"phone", "email", "postal_code", "id_number", "submitted_on"}
    assert "11 位手机号码" in errors["phone"] and "电子邮箱格式不正确" in errors["email"]
    assert "6 位数字" in errors["postal_code"] and "校验位" in errors["id_number"]
    assert "有 5 处需要更正" in page
    assert 'value="abc"' in page and 'value="not-an-email"' in page and "某小区改造批复" in page
    assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_the_browser_is_told_the_formats_too(web_app, users):
    page = logged_in(web_app, "clerk").get("/register").get_data(as_text=True)
    phone = re.search(r'<input type="tel" name="phone"[^>]*>', page).group(0)
    assert 'inputmode="tel"' in phone and 'pattern="' in phone
    assert re.search(r'<input type="email" name="email"', page)
    postal = re.search(r'<input[^>]*name="postal_code"[^>]*>', page).group(0)
    assert 'inputmode="numeric"' in postal and 'pattern="\\d{6}"' in postal
    assert 'data-id-card-pattern="\\d{17}[\\dXx]"' in page


def test_the_engine_refuses_a_bad_phone_whatever_the_channel(session, users):
    form = h.registration(submitted_on=TODAY)
    form.applicant.phone, form.applicant.email = "abc", "not-an-email"
    try:
        services.register_request(session, form, renderer=h.render, actor=users["clerk"], today=TODAY)
    except InvalidInput as refusal:
        assert set(refusal.details["fields"]) == {"phone", "email"}
    else:
        raise AssertionError("a phone 'abc' was accepted")


def test_a_mailed_application_without_its_sign_for_date_says_the_submission_date_is_used(web_app, session, users):
    clerk = logged_in(web_app, "clerk")
    form = clerk.get("/register").get_data(as_text=True)
    assert "不填写的，以提交日期作为收到申请之日" in form
    response = clerk.post("/register", data=registration_form(channel="mail", submitted_on="2026-02-27"),
                          follow_redirects=True)
    assert "邮寄申请未填写签收日期：已以提交日期 2026-02-27 作为收到申请之日" in response.get_data(as_text=True)
    assert session.scalar(select(Case.received_on)).isoformat() == "2026-02-27"


def _partial_item(session, users, today):
    case, _ = h.register(session, users, today)
    h.accept(session, users, case, today)
    case = session.get(Case, case.id)
    item = case.items[0]
    services.record_decision(session, case.id, decisions=[services.ItemDecision(
        item_id=item.id, outcome="PARTIAL", reason="批复正文予以公开，附件中的个人信息不予公开",
        how_to_obtain="随本答复书邮寄批复文件复印件（已作区分处理）")], actor=users["handler"], today=today)
    session.commit()
    return session.get(Case, case.id), item


def test_the_exemption_grounds_come_in_the_regulations_order_with_none_chosen(web_app, session, users, today):
    case, item = _partial_item(session, users, today)
    page = logged_in(web_app, "handler").get(f"/cases/{case.id}/items/{item.id}/exemption").get_data(as_text=True)
    select_ = page[page.find('<select name="ground"'):page.find("</select>", page.find('<select name="ground"'))]
    codes = re.findall(r'<option value="(\w*)"', select_)
    assert codes == ["", "WITHHELD_STATE_SECRET", "WITHHELD_LAW_PROHIBITED", "WITHHELD_SECURITY",
                     "WITHHELD_THIRD_PARTY", "WITHHELD_INTERNAL", "WITHHELD_PROCESS", "WITHHELD_ENFORCEMENT_FILE"]
    assert re.search(r'<option value="" selected', select_) and "（条例第十五条）" in select_
    assert 'name="facts"' not in page and "请先选择不公开部分的理由" in page


def test_changing_the_ground_keeps_the_facts_and_missing_elements_show_beside_their_fields(
        web_app, session, users, today):
    case, item = _partial_item(session, users, today)
    handler = logged_in(web_app, "handler")
    url = f"/cases/{case.id}/items/{item.id}/exemption"
    facts = "批复附件中列有被征收人的姓名、身份证号和补偿金额，属于个人隐私"
    switched = handler.post(url, data={"version": case.version, "ground": "WITHHELD_PROCESS", "facts": facts,
                                       "discretion_reason": "尚在讨论中的意见", "switch_ground": "1"})
    assert switched.status_code == 200
    switched = handler.post(url, data={"version": case.version, "ground": "WITHHELD_THIRD_PARTY", "facts": facts,
                                       "discretion_reason": "尚在讨论中的意见", "switch_ground": "1"})
    page = switched.get_data(as_text=True)
    assert facts in page and '<input type="hidden" name="discretion_reason" value="尚在讨论中的意见">' in page
    assert "（未选择上方已答复的征求意见记录时必填）" in page and "公共利益衡量" in page
    refused = handler.post(url, data={"version": case.version, "ground": "WITHHELD_THIRD_PARTY", "facts": facts,
                                      "article": "", "scope": ""})
    errors = _errors_beside_fields(refused.get_data(as_text=True))
    assert refused.status_code in (400, 422)
    assert {"scope", "no_consultation_reason", "public_interest"} <= set(errors)
    assert facts in refused.get_data(as_text=True)


def test_a_payment_records_its_amount_and_receipt_number_and_refuses_another_amount(web_app, session, users, today):
    case, _ = h.register(session, users, today)
    h.accept(session, users, case, today)
    case = session.get(Case, case.id)
    services.issue_fee_notice(session, case.id, mode="PER_PAGE", units=120, renderer=h.render,
                              actor=users["handler"], today=today)
    session.commit()
    case = session.get(Case, case.id)
    clerk = logged_in(web_app, "clerk")
    form = clerk.get(f"/cases/{case.id}/do/record_payment").get_data(as_text=True)
    assert 'name="receipt_no"' in form and 'name="amount_yuan"' in form and 'value="1100"' in form
    wrong = clerk.post(f"/cases/{case.id}/do/record_payment", data={
        "version": case.version, "paid_on": today.isoformat(), "amount_yuan": "1000", "receipt_no": "浙财电0001234"})
    assert wrong.status_code == 400
    assert _errors_beside_fields(wrong.get_data(as_text=True))["amount_yuan"].startswith("实缴金额（1000 元）与收费通知书")
    done = clerk.post(f"/cases/{case.id}/do/record_payment", data={
        "version": case.version, "paid_on": today.isoformat(), "amount_yuan": "1100", "receipt_no": "浙财电0001234"},
        follow_redirects=True)
    assert "已登记缴费 1100 元（票据号 浙财电0001234）" in done.get_data(as_text=True)
    session.expire_all()
    fee = session.get(Case, case.id).fees[-1]
    assert (fee.paid_amount_yuan, fee.payment_receipt_no) == (1100, "浙财电0001234")
    assert "票据号 浙财电0001234" in clerk.get(f"/cases/{case.id}").get_data(as_text=True)


def test_a_form_says_when_its_note_is_quoted_in_a_letter_to_the_applicant(web_app, session, users, today):
    case, _ = h.register(session, users, today)
    page = logged_in(web_app, "clerk").get(f"/cases/{case.id}/do/withdraw").get_data(as_text=True)
    assert "此处内容将原文写入《终止办理告知书》，申请人会读到" in page
    h.accept(session, users, case, today)
    page = logged_in(web_app, "office_head").get(f"/cases/{case.id}/do/extend").get_data(as_text=True)
    assert "此处内容将原文写入《延期答复告知书》" in page
