"""The applicant's public pages: 网上申请 (bot protection, duplicates, receipt), 办件进度查询, 电子送达, 补正, 撤回."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine import services
from engine.errors import InvalidInput
from engine.persistence.models import Agency, AuditEvent, Case, Delivery, Letter, Upload, User
from engine.services import portal
from tests.conftest import TODAY
from tests.integration.helpers_cases import accept, decide_disclosed, render, review_and_sign
from tests.integration.test_web_support import dispose

TOKEN = re.compile(r'name="started" value="([^"]+)"')
REG_NO = re.compile(r'id="reg-no">([^<]+)<')
CODE = re.compile(r'id="query-code">([^<]+)<')
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def make_app(db_url, **config):
    from webui.app import create_app

    return create_app({"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret",
                       "WTF_CSRF_ENABLED": False, "GONGKAI_TODAY": TODAY, "RATELIMIT_STORAGE_URI": "memory://",
                       "PORTAL_MIN_FILL_SECONDS": 0, **config})


@pytest.fixture
def portal_app(db_url, agency, users):
    app = make_app(db_url)
    yield app
    dispose(app)


@pytest.fixture
def applicant(portal_app):
    return portal_app.test_client()


def application(**overrides) -> dict:
    form = {"agency": "TESTCITY", "applicant_kind": "NATURAL", "name": "李四", "id_type": "居民身份证",
            "id_number": "11010519491231002X", "phone": "13900000000", "email": "lisi@example.cn",
            "address": "测试市解放路8号", "postal_code": "310000",
            "item_description": ["2025年度城区老旧小区改造项目的批复文件"], "purpose": "",
            "requested_form": "电子数据", "requested_delivery": "网络平台", "notice_read": "1"}
    form.update(overrides)
    return form


def started_token(client, **query) -> str:
    page = client.get("/apply", query_string=query).get_data(as_text=True)
    return TOKEN.search(page).group(1)


def submit(client, **overrides):
    form = application(**overrides)
    form.setdefault("started", started_token(client))
    return client.post("/apply/submit", data=form)


def apply_online(client, **overrides) -> tuple[str, str]:
    """Apply through the form, the confirmation page and the submission; the 登记编号 and 查询码 shown."""
    form = application(**overrides)
    form["started"] = started_token(client, agency=form["agency"])
    review = client.post("/apply", data={**form, "step": "review"})
    assert review.status_code == 200, review.get_data(as_text=True)
    assert "核对申请内容" in review.get_data(as_text=True)
    page = client.post("/apply/submit", data=form)
    assert page.status_code == 200, page.get_data(as_text=True)
    text = page.get_data(as_text=True)
    return REG_NO.search(text).group(1), CODE.search(text).group(1)


def the_case(session, reg_no: str) -> Case:
    session.expire_all()
    return session.scalar(select(Case).where(Case.reg_no == reg_no))


def cases(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Case))


def case_actor(session) -> int:
    return session.scalar(select(User.id).where(User.username == "portal-TESTCITY"))


def look_up(client, reg_no: str, code: str):
    return client.post("/progress", data={"reg_no": reg_no, "query_code": code})


def test_the_public_pages_need_no_login_and_show_no_staff_navigation(applicant):
    for path in ("/apply", "/progress", "/progress?reg_no=依申请〔2026〕1号"):
        response = applicant.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert "工作台" not in page and "退出" not in page and "用户登录" not in page
    page = applicant.get("/apply").get_data(as_text=True)
    for label in ("申请须知", "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "证件号码",
                  "联系电话", "电子邮箱", "通信地址", "邮政编码", "用途（选填）", "电子送达"):
        assert label in page, label
    assert 'value="依申请〔2026〕1号"' in applicant.get("/progress?reg_no=依申请〔2026〕1号").get_data(as_text=True)


def test_an_online_application_is_registered_only_after_confirmation_and_gives_a_receipt(applicant, session):
    form = application(item_description=["第一项：2025年老旧小区改造批复", "第二项：改造资金拨付文件"])
    form["started"] = started_token(applicant)
    review = applicant.post("/apply", data={**form, "step": "review"}).get_data(as_text=True)
    assert "第二项：改造资金拨付文件" in review and "确认提交" in review
    assert cases(session) == 0
    page = applicant.post("/apply/submit", data=form).get_data(as_text=True)
    reg_no, code = REG_NO.search(page).group(1), CODE.search(page).group(1)
    case = the_case(session, reg_no)
    assert case.channel == "online" and case.stage == "registered" and case.received_on == TODAY
    assert [i.description for i in case.items] == ["第一项：2025年老旧小区改造批复", "第二项：改造资金拨付文件"]
    assert case.requested_delivery == "网络平台" and case.query_code_hash == services.registration.query_code_digest(code)
    assert "2026年3月2日" in page and "查询码只显示这一次" in page
    actor = session.get(User, session.scalar(select(AuditEvent.actor_id).where(
        AuditEvent.case_id == case.id, AuditEvent.action == "register_request")))
    assert actor.username == "portal-TESTCITY" and actor.roles == ["clerk"]
    receipt = session.scalar(select(Letter).where(Letter.case_id == case.id, Letter.letter_type == "receipt"))
    download = applicant.post(f"/progress/letters/{receipt.id}")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert "filename*=UTF-8''%E7%99%BB%E8%AE%B0%E5%9B%9E%E6%89%A7-" in download.headers["Content-Disposition"]


def test_the_portal_system_user_cannot_sign_in(applicant, session):
    apply_online(applicant)
    response = applicant.post("/login", data={"username": "portal-TESTCITY", "password": portal.UNUSABLE_PASSWORD})
    assert response.status_code != 302


def test_missing_contact_is_refused_beside_the_field_with_the_input_kept(applicant, session):
    form = application(phone="", email="", address="")
    form["started"] = started_token(applicant)
    response = applicant.post("/apply", data={**form, "step": "review"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "请至少填写一种联系方式" in page and 'id="err-phone"' in page
    assert "李四" in page and "2025年度城区老旧小区改造项目的批复文件" in page
    assert cases(session) == 0


def test_a_filled_honeypot_registers_nothing(applicant, session):
    response = submit(applicant, homepage="http://spam.example")
    assert response.status_code == 400 and "提交未被接受" in response.get_data(as_text=True)
    assert cases(session) == 0


def test_a_form_sent_faster_than_a_person_fills_it_is_refused_with_the_input_kept(db_url, agency, users, session):
    app = make_app(db_url, PORTAL_MIN_FILL_SECONDS=5)
    try:
        client = app.test_client()
        response = submit(client)
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert "提交过快" in page and "李四" in page
        assert submit(client, started="forged").status_code == 400
        assert cases(session) == 0
        with app.test_request_context():
            from webui.portal.guards import form_started_token

            earlier = form_started_token(at=time.time() - 6)
        assert submit(client, started=earlier).status_code == 200
        assert cases(session) == 1
    finally:
        dispose(app)


def test_submissions_are_limited_per_address_and_per_id_number(db_url, agency, users, session):
    app = make_app(db_url, PORTAL_APPLY_LIMIT_PER_HOUR=3, PORTAL_APPLY_LIMIT_PER_ID_PER_DAY=2)
    try:
        client = app.test_client()
        for n in range(2):
            assert submit(client, confirm_new="1", item_description=[f"第{n}件申请{n}"]).status_code == 200
        refused = submit(client, confirm_new="1", item_description=["第三件：另外一份完全不同的统计年鉴"])
        assert refused.status_code == 429 and "Retry-After" in refused.headers
        assert "提交次数过多" in refused.get_data(as_text=True) and "另外一份完全不同的统计年鉴" in refused.get_data(as_text=True)
        # Another ID number from the same address: within the address's 3 an hour once, then refused.
        other = "110105194912310021"
        other = other[:17] + "10X98765432"[sum(int(d) * w for d, w in zip(
            other[:17], [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], strict=True)) % 11]
        assert submit(client, id_number=other, name="王五", email="ww@example.cn",
                      item_description=["王五的申请：道路规划许可"]).status_code == 429
        assert cases(session) == 2
    finally:
        dispose(app)


def test_a_duplicate_is_shown_and_registered_again_only_when_the_applicant_confirms_it_is_new(applicant, session):
    reg_no, _code = apply_online(applicant)
    again = submit(applicant)
    page = again.get_data(as_text=True)
    assert again.status_code == 409 and "您此前提交过内容相似的申请" in page and reg_no in page
    assert "/progress?reg_no=" in page
    assert cases(session) == 1
    assert submit(applicant, confirm_new="1").status_code == 200
    assert cases(session) == 2


def test_a_wrong_number_or_code_gets_the_same_answer_and_any_bracket_style_finds_the_case(applicant, session):
    reg_no, code = apply_online(applicant)
    applicant.post("/progress/end")
    wrong_code = look_up(applicant, reg_no, "AAAAAAAA")
    wrong_number = look_up(applicant, reg_no.replace("1号", "99号"), code)
    assert wrong_code.status_code == wrong_number.status_code == 404
    message = "登记编号或查询码不正确"
    assert message in wrong_code.get_data(as_text=True) and message in wrong_number.get_data(as_text=True)
    assert applicant.get("/progress/case").status_code == 303
    typed = reg_no.replace("〔", "[").replace("〕", "]")
    found = look_up(applicant, typed, code.lower())
    assert found.status_code == 303 and found.headers["Location"].endswith("/progress/case")
    page = applicant.get("/progress/case").get_data(as_text=True)
    assert reg_no in page and "已收到申请，正在审核" in page and "提交申请" in page and "确认收到申请" in page
    assert code not in applicant.get_cookie("gongkai_session").value


def test_the_lookup_and_the_confirmation_page_are_rate_limited_per_address(db_url, agency, users):
    app = make_app(db_url, API_LOOKUP_LIMIT_PER_MINUTE=2)
    try:
        client = app.test_client()
        for _ in range(2):
            assert look_up(client, "依申请〔2026〕1号", "AAAAAAAA").status_code == 404
        refused = look_up(client, "依申请〔2026〕1号", "AAAAAAAA")
        assert refused.status_code == 429 and "查询次数过多" in refused.get_data(as_text=True)
        # The confirmation page, which shows an ID number's earlier requests, counts the same way.
        form = {**application(), "started": started_token(client), "step": "review"}
        assert [client.post("/apply", data=form).status_code for _ in range(3)] == [200, 200, 429]
    finally:
        dispose(app)


def test_a_renewed_query_code_ends_the_applicant_session(applicant, session, users, today):
    reg_no, _code = apply_online(applicant)
    assert applicant.get("/progress/case").status_code == 200
    services.renew_query_code(session, the_case(session, reg_no).id, actor=users["clerk"], today=today)
    session.commit()
    assert applicant.get("/progress/case").status_code == 303


def test_the_timeline_shows_public_steps_without_staff_internals(applicant, session, users, today):
    reg_no, _code = apply_online(applicant)
    case = the_case(session, reg_no)
    accept(session, users, case, today)
    services.open_consultation(session, case.id, kind="THIRD_PARTY", party_name="某某房地产开发有限公司",
                               sent_on=today, renderer=render, actor=users["handler"], today=today)
    session.commit()
    services.extend(session, case.id, working_days=10, reason="需要调取档案馆存档的历史批复文件",
                    renderer=render, actor=users["office_head"], today=today)
    session.commit()
    page = applicant.get("/progress/case").get_data(as_text=True)
    assert "征求意见" in page and "不计入答复期限" in page and "某某房地产开发有限公司" not in page
    assert "延长 10 个工作日" in page and "需要调取档案馆存档的历史批复文件" in page
    assert "handler" not in page and "office_head" not in page
    assert "延期答复告知书" in page and "征求意见告知书" in page and "征求第三方意见书" not in page


def _signed_reply(session, users, today, reg_no):
    case = the_case(session, reg_no)
    accept(session, users, case, today)
    decide_disclosed(session, users, the_case(session, reg_no), today)
    return review_and_sign(session, users, the_case(session, reg_no), today)


def test_the_first_download_of_an_electronically_delivered_reply_records_its_delivery_once(applicant, session, users,
                                                                                           today):
    reg_no, _code = apply_online(applicant)
    reply = _signed_reply(session, users, today, reg_no)
    page = applicant.get("/progress/case").get_data(as_text=True)
    assert "答复书" in page and "首次下载即为电子送达" in page
    first = applicant.post(f"/progress/letters/{reply.id}")
    assert first.status_code == 200 and first.data == reply.pdf
    case = the_case(session, reg_no)
    deliveries = session.scalars(select(Delivery).where(Delivery.case_id == case.id)).all()
    assert [(d.method, d.delivered_on, d.letter_id) for d in deliveries] == [("ONLINE", TODAY, reply.id)]
    assert "首次下载答复书" in deliveries[0].note and "北京时间" in deliveries[0].note
    assert case.stage == "replied" and case.finished_on == TODAY
    event = session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                    AuditEvent.action == "record_delivery"))
    assert event.changes["method"] == "ONLINE" and event.actor_name == "网上申请平台" and event.actor_id == case_actor(session)
    assert applicant.post(f"/progress/letters/{reply.id}").status_code == 200
    assert session.scalar(select(func.count()).select_from(Delivery).where(Delivery.case_id == case.id)) == 1
    assert "首次下载即为电子送达" not in applicant.get("/progress/case").get_data(as_text=True)


def test_a_reply_to_be_posted_is_not_downloadable_before_it_is_delivered(applicant, session, users, today):
    reg_no, _code = apply_online(applicant, requested_delivery="邮寄")
    reply = _signed_reply(session, users, today, reg_no)
    assert "答复书将按您选择的方式（邮寄）送达" in applicant.get("/progress/case").get_data(as_text=True)
    assert applicant.post(f"/progress/letters/{reply.id}").status_code == 404
    assert session.scalar(select(func.count()).select_from(Delivery)) == 0


def test_the_applicant_supplements_online_with_text_and_files(applicant, session, users, today):
    reg_no, _code = apply_online(applicant)
    case = the_case(session, reg_no)
    services.request_supplement(session, case.id, items=["请写明批复文件的文号或者大致成文时间"], renderer=render,
                                actor=users["clerk"], today=today)
    session.commit()
    page = applicant.get("/progress/case").get_data(as_text=True)
    assert "请补正申请" in page and "请写明批复文件的文号或者大致成文时间" in page and "补正告知书" in page
    empty = applicant.post("/progress/supplement", data={"version": the_case(session, reg_no).version})
    assert empty.status_code == 400 and "请填写补正内容或上传补正材料" in empty.get_data(as_text=True)
    from io import BytesIO

    response = applicant.post("/progress/supplement", data={
        "version": the_case(session, reg_no).version, "statement": "文号为测政复〔2025〕12号，2025年6月成文",
        "files": [(BytesIO(PDF), "补正说明.pdf"), (BytesIO(PNG), "照片.png")]}, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    case = the_case(session, reg_no)
    assert case.stage == "registered" and case.supplement_received_on == TODAY and case.clock_start_on == TODAY
    uploads = session.scalars(select(Upload).where(Upload.case_id == case.id).order_by(Upload.id)).all()
    assert [(u.kind, u.filename) for u in uploads] == [("supplement", "补正说明.pdf"), ("supplement", "照片.png")]
    event = session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                    AuditEvent.action == "receive_supplement"))
    assert event.changes["text"] == "文号为测政复〔2025〕12号，2025年6月成文"
    assert "收到补正" in applicant.get("/progress/case").get_data(as_text=True)


def test_the_applicant_withdraws_after_a_confirmation_page(applicant, session):
    reg_no, _code = apply_online(applicant)
    confirm = applicant.get("/progress/withdraw").get_data(as_text=True)
    assert "撤回不能恢复" in confirm and the_case(session, reg_no).stage == "registered"
    response = applicant.post("/progress/withdraw", data={"version": the_case(session, reg_no).version,
                                                          "confirmed": "1", "explanation": "已从其他渠道获得"})
    assert response.status_code == 303
    case = the_case(session, reg_no)
    assert case.stage == "closed" and case.report_outcome == "OTHER" and "通过网上申请平台撤回申请" in case.closed_reason
    assert "已从其他渠道获得" in case.closed_reason
    page = applicant.get("/progress/case").get_data(as_text=True)
    assert "终止办理告知书" in page and "已终止办理" in page and "撤回申请" in page


def test_an_agency_confirming_online_requests_by_hand_shows_the_receipt_date_as_pending(applicant, session, users,
                                                                                       today):
    agency = session.scalar(select(Agency))
    agency.online_manual_confirmation = True
    session.commit()
    form = application()
    form["started"] = started_token(applicant)
    review = applicant.post("/apply", data={**form, "step": "review"}).get_data(as_text=True)
    assert "待人工确认" in review
    page = applicant.post("/apply/submit", data=form).get_data(as_text=True)
    assert 'id="received-on">待人工确认' in page and "下载登记回执" not in page
    case = the_case(session, REG_NO.search(page).group(1))
    assert case.stage == "received" and case.received_on is None
    assert "等待本机关确认收件" in applicant.get("/progress/case").get_data(as_text=True)
    hash_before = case.query_code_hash
    confirmed = services.confirm_receipt(session, case.id, confirmed_on=today, renderer=render, actor=users["clerk"],
                                         today=today)
    session.commit()
    assert confirmed.query_code is None and confirmed.letter.data_snapshot["query_code"] == "网上申请时已告知，继续有效"
    case = the_case(session, case.reg_no)
    assert case.stage == "registered" and case.query_code_hash == hash_before  # the code shown online still works
    page = applicant.get("/progress/case").get_data(as_text=True)
    assert "已收到申请，正在审核" in page and "登记回执" in page


def test_with_several_agencies_the_applicant_chooses_one(db_url, agency, users, session):
    from engine.services.accounts import add_agency

    add_agency(session, "OTHER", "另一市人民政府办公室")
    session.commit()
    app = make_app(db_url)
    try:
        client = app.test_client()
        page = client.get("/apply").get_data(as_text=True)
        assert "请选择" in page and "另一市人民政府办公室" in page and "/apply?agency=OTHER" in page
        assert "另一市人民政府办公室" in client.get("/apply?agency=OTHER").get_data(as_text=True)
        assert client.get("/apply?agency=NOPE").status_code == 404
        reg_no, _code = apply_online(client, agency="OTHER")
        case = the_case(session, reg_no)
        assert case.agency.code == "OTHER"
        assert session.scalar(select(User.agency_id).where(User.username == "portal-OTHER")) == case.agency_id
    finally:
        dispose(app)


def test_the_portal_forms_need_a_csrf_token(db_url, agency, users, session):
    app = make_app(db_url, WTF_CSRF_ENABLED=True)
    try:
        client = app.test_client()
        client.get("/apply")
        response = client.post("/apply/submit", data={**application(), "started": "x"})
        assert response.status_code == 400 and "表单已过期或来源无效" in response.get_data(as_text=True)
        assert "工作台" not in response.get_data(as_text=True)
    finally:
        dispose(app)


def test_the_session_expires(db_url, agency, users):
    app = make_app(db_url, PORTAL_SESSION_MINUTES=0)
    try:
        client = app.test_client()
        apply_online(client)
        assert client.get("/progress/case").status_code == 303
    finally:
        dispose(app)


def test_supplement_period_is_shown_in_days_from_delivery(applicant, session, users, today):
    reg_no, _code = apply_online(applicant)
    case = the_case(session, reg_no)
    letter = services.request_supplement(session, case.id, items=["请写明文号"], renderer=render,
                                         actor=users["clerk"], today=today).letter
    session.commit()
    services.record_delivery(session, case.id, method="POST", delivered_on=today + timedelta(days=1),
                             letter_id=letter.id, actor=users["clerk"], today=today + timedelta(days=1))
    session.commit()
    page = applicant.get("/progress/case").get_data(as_text=True)
    assert "补正期限" in page and "补正告知书已送达" in page


def test_the_portal_system_user_can_get_no_password_roles_or_token(applicant, session, users):
    apply_online(applicant)
    system = session.get(User, case_actor(session))
    for operation, extra in (("reset_password", {"password": "a-Long-and-unusual-passphrase-2026"}),
                             ("roles", {"roles": ["clerk", "admin"]}), ("unlock", {})):
        with pytest.raises(InvalidInput, match="系统账户"):
            services.accounts.update_user(session, system.id, operation, actor=users["admin"], **extra)
    with pytest.raises(InvalidInput, match="系统账户"):
        services.accounts.create_token(session, system, "门户")
    session.rollback()
    system = session.get(User, case_actor(session))
    assert system.password_hash == portal.UNUSABLE_PASSWORD and system.roles == ["clerk"]


def test_the_api_status_lookup_finds_a_number_typed_with_other_brackets(applicant, portal_app, session):
    reg_no, code = apply_online(applicant)
    api = portal_app.test_client()
    for typed in (reg_no, reg_no.replace("〔", "[").replace("〕", "]"), reg_no.replace("〔", "【").replace("〕", "】")):
        answer = api.post("/api/v1/public/status", json={"reg_no": typed, "query_code": code})
        assert answer.status_code == 200 and answer.get_json()["reg_no"] == reg_no, typed
    assert api.post("/api/v1/public/status", json={"reg_no": reg_no, "query_code": "WRONG123"}).status_code == 404


def test_an_online_request_registered_over_the_api_keeps_its_code_when_confirmed_by_hand(portal_app, session, users,
                                                                                         today):
    agency = session.scalar(select(Agency))
    agency.online_manual_confirmation = True
    token = services.accounts.create_token(session, users["clerk"], "门户网站", scope="portal")
    session.commit()
    api = portal_app.test_client()
    body = {"applicant": {"kind": "NATURAL", "name": "赵六", "id_type": "居民身份证", "id_number": "11010519491231002X",
                          "email": "zhaoliu@example.cn"},
            "channel": "online", "submitted_on": today.isoformat(), "items": [{"description": "2025年度河道整治方案"}]}
    answer = api.post("/api/v1/cases", json=body, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 201, answer.get_json()
    registered = answer.get_json()
    confirmed = services.confirm_receipt(session, registered["case"]["id"], confirmed_on=today, renderer=render,
                                         actor=users["clerk"], today=today)
    session.commit()
    assert confirmed.query_code is None
    status = api.post("/api/v1/public/status", json={"reg_no": registered["case"]["reg_no"],
                                                     "query_code": registered["query_code"]})
    assert status.status_code == 200 and status.get_json()["received_on"] == today.isoformat()
