"""The web pages and the JSON API produce identical cases for the same actions: the same letters (types, numbers,
data), deliveries, audit event kinds and report outcome — because both make the same one engine call per action.

Each lifecycle runs once through the pages (agency TESTCITY) and once through the API (a twin agency with the same
settings and its own number sequences), on the same pinned date, and the two cases are compared."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from engine.persistence.models import (
    AuditEvent,
    Case,
    Delivery,
    Department,
    ExemptionRecord,
    Job,
    Letter,
    User,
)
from engine.rules.calendar import default_calendar
from engine.rules.vocabulary import ROLES
from engine.services.accounts import add_agency, add_department, add_user, create_token
from tests.conftest import PASSWORD, TODAY
from tests.integration import test_web_support as support
from tests.integration.api_harness import ApiClient
from tests.integration.helpers_cases import PARTIAL_EXEMPTION
from tests.integration.test_web_support import logged_in, registration_form

web_app = support.web_app

NOT_HELD_EXEMPTION = {
    "ground": "NOT_HELD", "facts": "经在本机关公文系统和档案室检索，均未找到所申请的批复文件",
    "search_record": "由规划科王强在公文管理系统（关键词：老旧小区、批复）和档案室纸质目录中检索，均无记录",
}
REASONS = {"PETITION": "申请内容为反映小区物业管理问题并要求查处，属于信访投诉事项，可向市信访局反映",
           "PARTIAL": "批复正文予以公开，附件中的个人信息不予公开", "NOT_HELD": "经检索，本机关未制作、未获取该信息"}
HOW = {"DISCLOSED": "随本答复书邮寄文件复印件", "PARTIAL": "随本答复书邮寄批复文件复印件（已作区分处理）"}


def _exemption(outcome: str) -> dict | None:
    if outcome == "PARTIAL":
        return {name: getattr(PARTIAL_EXEMPTION, name) for name in
                ("ground", "facts", "scope", "no_consultation_reason", "public_interest")} | {"whole_item": False}
    if outcome == "NOT_HELD":
        return NOT_HELD_EXEMPTION
    return None


class Web:
    """Drives a case through the pages, one form post per action."""

    def __init__(self, app, session):
        self.app, self.session = app, session
        self.clients = {role: logged_in(app, role) for role in ROLES if role != "admin"}
        self.case_id = None

    def case(self) -> Case:
        self.session.expire_all()
        return self.session.get(Case, self.case_id)

    def post(self, role: str, path: str, data: dict):
        response = self.clients[role].post(path, data={"version": self.case().version, **data})
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]

    def do(self, role: str, action: str, **data):
        self.post(role, f"/cases/{self.case_id}/do/{action}", {**data, "confirmed": "1"})  # past the confirm page

    def register(self):
        response = self.clients["clerk"].post("/register", data=registration_form())
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        self.case_id = int(re.search(r"/cases/(\d+)/registered", response.headers["Location"]).group(1))

    def accept(self, handler_id: int):
        department = self.session.scalar(select(Department).where(Department.agency_id == self.case().agency_id))
        self.do("clerk", "accept", department_id=department.id, handler_id=handler_id)

    def request_supplement(self):
        self.do("clerk", "request_supplement", items="请写明所需文件的名称或文号", period_working_days="10")

    def receive_supplement(self, on: date):
        self.do("clerk", "receive_supplement", received_on=on.isoformat())

    def open_consultation(self, on: date):
        self.do("handler", "open_consultation", kind="THIRD_PARTY", party_name="某建设有限公司",
                party_contact="0571-88886666", subject="投标文件中的技术方案", sent_on=on.isoformat())

    def answer_consultation(self, on: date):
        consultation = self.case().consultations[-1]
        self.do("handler", "record_consultation_answer", consultation_id=consultation.id, answer="CONSENT",
                answered_on=on.isoformat(), summary="同意公开")

    def issue_fee_notice(self):
        self.do("handler", "issue_fee_notice", mode="PER_PAGE", units="150")

    def record_payment(self, on: date):
        self.do("clerk", "record_payment", paid_on=on.isoformat(), receipt_no="浙财电〔2026〕0001234")

    def extend(self):
        self.do("office_head", "extend", working_days="15", reason="所需信息涉及多个部门，需协调检索")

    def close_lapsed(self):
        self.do("clerk", "close_lapsed")

    def withdraw(self):
        self.do("clerk", "withdraw", reason="申请人书面撤回申请", issue_notice="1")

    def decide(self, outcome: str, on: date):
        item = self.case().items[0]
        self.post("handler", f"/cases/{self.case_id}/decide", {
            f"outcome_{item.id}": outcome, f"reason_{item.id}": REASONS.get(outcome, ""),
            f"how_to_obtain_{item.id}": HOW.get(outcome, "")})
        exemption = _exemption(outcome)
        if exemption:
            data = {k: ("1" if v is True else "" if v is False else v) for k, v in exemption.items()}
            self.post("handler", f"/cases/{self.case_id}/items/{item.id}/exemption", data)
        if outcome in HOW:
            self.post("handler", f"/cases/{self.case_id}/items/{item.id}/confidentiality", {
                "conclusion": "NOT_SECRET" if outcome == "DISCLOSED" else "CLEARED_AFTER_REDACTION",
                "basis": "" if outcome == "DISCLOSED" else "删除个人信息后不涉密", "reviewed_on": on.isoformat()})
        self.post("handler", f"/cases/{self.case_id}/submit", {})

    def sign(self):
        for record in self.session.scalars(select(ExemptionRecord).where(ExemptionRecord.case_id == self.case_id,
                                                                         ExemptionRecord.current.is_(True))):
            self.post("legal_reviewer", f"/cases/{self.case_id}/review/exemptions/{record.id}",
                      {"decision": "confirm"})
        self.post("legal_reviewer", f"/cases/{self.case_id}/sign", {"confirmed": "1"})

    def deliver(self, on: date):
        reply = self.session.scalar(select(Letter).where(Letter.case_id == self.case_id,
                                                         Letter.letter_type == "reply"))
        self.do("clerk", "record_delivery", letter_id=reply.id, method="POST", delivered_on=on.isoformat(),
                tracking_no="EMS1234567890")

    def archive(self):
        self.do("archivist", "archive")

    def latest(self, letter_type: str) -> Letter:
        return self.session.scalar(select(Letter).where(Letter.case_id == self.case_id, Letter.letter_type == letter_type)
                                   .order_by(Letter.id.desc()).limit(1))

    def deliver_notice(self, letter_type: str, on: date):
        self.do("clerk", "record_delivery", letter_id=self.latest(letter_type).id, method="IN_PERSON",
                delivered_on=on.isoformat())

    def request_reasons(self):
        self.do("handler", "request_reasons", volume_description="本月已申请同类信息86件", period_working_days="10")

    def record_reasons(self, on: date):
        self.do("handler", "record_reasons", answer="ANSWERED", answered_on=on.isoformat(), summary="用于课题研究")

    def set_delayed_reply(self, until: date):
        self.do("office_head", "set_delayed_reply", new_due_on=until.isoformat(), reason="理由合理，但需逐件调档审查")


class Api(Web):
    """Drives the same case through the JSON API of a twin agency, one request per action."""

    def __init__(self, app, session, tokens: dict[str, str]):
        self.app, self.session = app, session
        client = app.test_client()
        self.clients = {role: ApiClient(client, token) for role, token in tokens.items()}
        self.case_id = None

    def act(self, role: str, action: str, **body):
        status, data = self.clients[role].act(self.case_id, action, {"version": self.case().version, **body})
        assert status == 200, data
        return data

    def do(self, role: str, action: str, **data):
        raise AssertionError("the API has its own bodies")  # pragma: no cover

    def register(self):
        form = registration_form()
        status, data = self.clients["clerk"].post("/cases", {
            "channel": form["channel"], "submitted_on": form["submitted_on"],
            "applicant": {"kind": form["applicant_kind"], "name": form["name"], "id_type": form["id_type"],
                          "id_number": form["id_number"], "phone": form["phone"], "address": form["address"]},
            "items": [{"description": form["item_description"][0], "topic": form["item_topic"][0]}],
            "requested_form": form["requested_form"], "requested_delivery": form["requested_delivery"]})
        assert status == 201, data
        self.case_id = data["case"]["id"]
        self.render_pending_letters()

    def render_pending_letters(self):
        """What the background worker does after the API's commit: the receipt's `render_letter` job (the web
        counter renders it within its request instead), so both channels end with the same frozen letters."""
        from engine.services import jobs
        from engine.services.issuing import RENDER_JOB
        from webui.background import kinds  # noqa: F401  (registers the job body)

        self.session.commit()
        for job_id in self.session.scalars(select(Job.id).where(Job.kind == RENDER_JOB, Job.state == "queued")):
            assert jobs.perform(self.session.get_bind(), job_id) == "done"

    def accept(self, handler_id: int):
        department = self.session.scalar(select(Department).where(Department.agency_id == self.case().agency_id))
        self.act("clerk", "accept", department_id=department.id, handler_id=handler_id)

    def request_supplement(self):
        self.act("clerk", "request_supplement", items=["请写明所需文件的名称或文号"], period_working_days=10)

    def receive_supplement(self, on: date):
        self.act("clerk", "receive_supplement", received_on=on.isoformat())

    def open_consultation(self, on: date):
        self.act("handler", "open_consultation", kind="THIRD_PARTY", party_name="某建设有限公司",
                 party_contact="0571-88886666", subject="投标文件中的技术方案", sent_on=on.isoformat())

    def answer_consultation(self, on: date):
        consultation = self.case().consultations[-1]
        self.act("handler", "record_consultation_answer", consultation_id=consultation.id, answer="CONSENT",
                 answered_on=on.isoformat(), summary="同意公开")

    def issue_fee_notice(self):
        self.act("handler", "issue_fee_notice", mode="PER_PAGE", units=150)

    def record_payment(self, on: date):
        self.act("clerk", "record_payment", paid_on=on.isoformat(), receipt_no="浙财电〔2026〕0001234")

    def extend(self):
        self.act("office_head", "extend", working_days=15, reason="所需信息涉及多个部门，需协调检索")

    def close_lapsed(self):
        action = "close_lapsed_fee" if self.case().stage == "awaiting_fee" else "close_lapsed_supplement"
        self.act("clerk", action)

    def withdraw(self):
        self.act("clerk", "withdraw", reason="申请人书面撤回申请")

    def decide(self, outcome: str, on: date):
        item = self.case().items[0]
        decision = {"item_id": item.id, "outcome": outcome, "reason": REASONS.get(outcome, ""),
                    "how_to_obtain": HOW.get(outcome, "")}
        self.act("handler", "record_decision", decisions=[decision])
        exemption = _exemption(outcome)
        if exemption:
            self.act("handler", "record_exemption", item_id=item.id, **exemption)
        if outcome in HOW:
            self.act("handler", "record_confidentiality_review", item_id=item.id,
                     conclusion="NOT_SECRET" if outcome == "DISCLOSED" else "CLEARED_AFTER_REDACTION",
                     basis="" if outcome == "DISCLOSED" else "删除个人信息后不涉密", reviewed_on=on.isoformat())
        self.act("handler", "submit_for_review")

    def sign(self):
        for record in self.session.scalars(select(ExemptionRecord).where(ExemptionRecord.case_id == self.case_id,
                                                                         ExemptionRecord.current.is_(True))):
            self.act("legal_reviewer", "review_exemption", record_id=record.id, confirm=True)
        self.act("legal_reviewer", "sign")

    def deliver(self, on: date):
        reply = self.session.scalar(select(Letter).where(Letter.case_id == self.case_id,
                                                         Letter.letter_type == "reply"))
        self.act("clerk", "record_delivery", letter_id=reply.id, method="POST", delivered_on=on.isoformat(),
                 tracking_no="EMS1234567890")

    def archive(self):
        self.act("archivist", "archive")

    def deliver_notice(self, letter_type: str, on: date):
        self.act("clerk", "record_delivery", letter_id=self.latest(letter_type).id, method="IN_PERSON",
                 delivered_on=on.isoformat())

    def request_reasons(self):
        self.act("handler", "request_reasons", volume_description="本月已申请同类信息86件", period_working_days=10)

    def record_reasons(self, on: date):
        self.act("handler", "record_reasons", answer="ANSWERED", answered_on=on.isoformat(), summary="用于课题研究")

    def set_delayed_reply(self, until: date):
        self.act("office_head", "set_delayed_reply", new_due_on=until.isoformat(), reason="理由合理，但需逐件调档审查")


def _replied(outcome: str):
    def run(driver, app, handler_id):
        driver.register()
        driver.accept(handler_id)
        driver.decide(outcome, TODAY)
        driver.sign()
        driver.deliver(TODAY)
        driver.archive()

    return run


def _with_every_notice(driver, app, handler_id):
    """Supplement, consultation, fee, extension, 条例35: every notice of the handling stages with its delivery,
    then a disclosure."""
    driver.register()
    driver.request_supplement()
    driver.deliver_notice("supplement_notice", TODAY)
    driver.receive_supplement(TODAY)
    driver.accept(handler_id)
    driver.open_consultation(TODAY)
    driver.deliver_notice("third_party_consultation", TODAY)
    driver.answer_consultation(TODAY)
    driver.issue_fee_notice()
    driver.deliver_notice("fee_notice", TODAY)
    driver.record_payment(TODAY)
    driver.extend()
    driver.request_reasons()
    driver.deliver_notice("reason_request", TODAY)
    driver.record_reasons(TODAY)
    driver.set_delayed_reply(default_calendar().add_working_days(TODAY, 60))
    driver.decide("DISCLOSED", TODAY)
    driver.sign()
    driver.deliver(TODAY)


def _lapsed_supplement(driver, app, handler_id):
    driver.register()
    driver.request_supplement()
    driver.deliver_notice("supplement_notice", TODAY)
    app.config["GONGKAI_TODAY"] = default_calendar().add_working_days(TODAY, 11)
    driver.close_lapsed()


def _lapsed_fee(driver, app, handler_id):
    driver.register()
    driver.accept(handler_id)
    driver.issue_fee_notice()
    driver.deliver_notice("fee_notice", TODAY)
    app.config["GONGKAI_TODAY"] = default_calendar().add_working_days(TODAY, 22)
    driver.close_lapsed()


def _withdrawn(driver, app, handler_id):
    driver.register()
    driver.withdraw()


LIFECYCLES = {
    "disclosed": _replied("DISCLOSED"), "partial": _replied("PARTIAL"), "unable": _replied("NOT_HELD"),
    "not_processed": _replied("PETITION"), "every_notice": _with_every_notice,
    "lapsed_supplement": _lapsed_supplement, "lapsed_fee": _lapsed_fee, "withdrawn": _withdrawn,
}


def _portrait(session, case_id: int) -> dict:
    """Everything that must not depend on the channel (the query code is random; ids and times differ)."""
    session.expire_all()
    case = session.get(Case, case_id)
    letters = session.scalars(select(Letter).where(Letter.case_id == case_id).order_by(Letter.id)).all()
    deliveries = session.scalars(select(Delivery).where(Delivery.case_id == case_id).order_by(Delivery.id)).all()
    by_id = {letter.id: letter for letter in letters}
    events = session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case_id)
                             .order_by(AuditEvent.seq)).all()
    return {
        "stage": case.stage, "reg_no": case.reg_no, "report_outcome": case.report_outcome,
        "due_on": case.due_on, "finished_on": case.finished_on,
        "archive_no": (case.archive_no or "").replace(case.agency.code, "{code}"),
        "letters": [(letter.letter_type, letter.doc_number, letter.template_version, letter.signed_by_id is not None,
                     {k: v for k, v in letter.data_snapshot.items() if k != "query_code"}) for letter in letters],
        "deliveries": [(d.method, d.delivered_on, by_id[d.letter_id].letter_type if d.letter_id else None,
                        d.tracking_no) for d in deliveries],
        "events": events,
    }


@pytest.fixture
def twin_tokens(session, agency, password_hash, monkeypatch):
    """A twin of the test agency (same name and settings, its own numbers) with one API token per role."""
    import engine.services.accounts as accounts
    from engine.persistence.audit import utcnow
    from engine.services.signing_keys import create_signing_key

    twin = add_agency(session, "TWINCITY", agency.name, letter_no_prefix=agency.letter_no_prefix,
                      review_body=agency.review_body, court=agency.court, contact=agency.contact,
                      online_review_channel=agency.online_review_channel, topics=list(agency.topics),
                      settings=dict(agency.settings))
    add_department(session, twin, "规划科")
    create_signing_key(session, twin, now=utcnow())
    tokens = {}
    with monkeypatch.context() as patch:
        patch.setattr(accounts, "hash_password", lambda _pw: password_hash)
        for role in ROLES:
            user = add_user(session, twin, f"twin_{role}", PASSWORD, [role], display_name=f"{role}用户")
            tokens[role] = create_token(session, user, f"{role} 令牌")
    session.commit()
    return tokens


@pytest.mark.parametrize("family", list(LIFECYCLES))
def test_the_pages_and_the_api_make_identical_cases(family, web_app, session, users, twin_tokens):
    run = LIFECYCLES[family]
    web = Web(web_app, session)
    run(web, web_app, users["handler"].id)
    web_app.config["GONGKAI_TODAY"] = TODAY  # the lapse lifecycles moved it forward
    api = Api(web_app, session, twin_tokens)
    handler_id = session.scalar(select(User.id).where(User.username == "twin_handler"))
    run(api, web_app, handler_id)
    on_web, on_api = _portrait(session, web.case_id), _portrait(session, api.case_id)
    assert on_web["letters"], "every lifecycle issues at least the receipt"
    assert on_web == on_api
    # The law's letters are all there, whichever channel was used.
    types = [letter[0] for letter in on_api["letters"]]
    assert types[0] == "receipt"
    expected = {"every_notice": {"supplement_notice", "third_party_consultation", "consultation_notice", "fee_notice",
                                 "extension_notice", "reason_request", "delay_notice", "reply"},
                "lapsed_supplement": {"supplement_notice", "termination_notice"},
                "lapsed_fee": {"fee_notice", "termination_notice"}, "withdrawn": {"termination_notice"}}
    assert expected.get(family, {"reply"}) <= set(types)
    # Every action on either channel left state that matches its last audit event (keyed chain, state digests).
    from engine.persistence.audit_verify import verify_audit

    assert verify_audit(session).problems == []

