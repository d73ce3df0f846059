"""Every page × every role: allowed (200), refused (403), or sent to the login page; other agencies see 404."""

from __future__ import annotations

from sqlalchemy import select

from engine import services
from engine.persistence.models import Case, Letter
from engine.rules.vocabulary import ROLES
from engine.services.accounts import add_agency, add_user
from tests.conftest import PASSWORD
from tests.integration import helpers_cases as h
from tests.integration import test_web_support as support
from tests.integration.test_web_support import logged_in, register_via_web

ALL = frozenset(ROLES)

web_app = support.web_app
client = support.client


def _cases_in_every_stage(session, users, today) -> dict[str, Case]:
    registered, _ = h.register(session, users, today)
    handling, _ = h.register(session, users, today, name="李四", id_number="")
    h.accept(session, users, handling, today)
    drafting, _ = h.register(session, users, today, name="王五", id_number="")
    h.accept(session, users, drafting, today)
    h.decide_partial(session, users, drafting, today)
    in_review, _ = h.register(session, users, today, name="赵六", id_number="")
    h.accept(session, users, in_review, today)
    h.decide_disclosed(session, users, in_review, today)
    services.submit_for_review(session, in_review.id, actor=users["handler"], today=today)
    session.commit()
    signed, _ = h.register(session, users, today, name="孙七", id_number="")
    h.accept(session, users, signed, today)
    h.decide_disclosed(session, users, signed, today)
    h.review_and_sign(session, users, signed, today)
    return {"registered": registered, "in_handling": handling, "drafting": drafting, "in_review": in_review,
            "signed": signed}


def _matrix(cases: dict[str, Case]) -> list[tuple[str, frozenset[str]]]:
    c = {stage: case.id for stage, case in cases.items()}
    return [
        ("/", ALL),
        ("/cases", ALL),
        ("/cases?stage=drafting&due=overdue&q=%25", ALL),
        ("/cases/export.csv", ALL),
        ("/cases/export.xlsx", ALL),
        ("/register", frozenset({"clerk"})),
        ("/archive", frozenset({"archivist", "admin"})),
        ("/exemptions", frozenset({"legal_reviewer", "office_head", "admin"})),
        ("/admin/", frozenset({"admin"})),
        ("/admin/users", frozenset({"admin"})),
        ("/admin/departments", frozenset({"admin"})),
        ("/admin/agency", frozenset({"admin"})),
        ("/admin/tokens", frozenset({"admin"})),
        (f"/cases/{c['registered']}", ALL),
        (f"/cases/{c['registered']}/do/accept", frozenset({"clerk", "office_head"})),
        (f"/cases/{c['registered']}/do/request_supplement", frozenset({"clerk"})),
        (f"/cases/{c['registered']}/do/withdraw", frozenset({"clerk"})),
        (f"/cases/{c['registered']}/do/extend", frozenset({"office_head"})),
        (f"/cases/{c['registered']}/do/archive", frozenset()),
        (f"/cases/{c['in_handling']}/do/open_consultation", frozenset({"handler"})),
        (f"/cases/{c['in_handling']}/do/issue_fee_notice", frozenset({"handler", "clerk"})),
        (f"/cases/{c['in_handling']}/do/assign", frozenset({"clerk", "office_head"})),
        (f"/cases/{c['in_handling']}/decide", frozenset({"handler"})),
        (f"/cases/{c['drafting']}/decide", frozenset({"handler", "legal_reviewer", "office_head"})),
        (f"/cases/{c['drafting']}/preview.pdf", frozenset({"handler", "legal_reviewer", "office_head", "clerk"})),
        (f"/cases/{c['in_review']}/review", frozenset({"legal_reviewer"})),
        (f"/cases/{c['signed']}/do/record_delivery", frozenset({"clerk"})),
        (f"/cases/{c['signed']}/do/record_challenge", frozenset()),
        (f"/cases/{c['signed']}/registered", frozenset({"clerk"})),
    ]


def test_every_page_answers_each_role_as_the_matrix_says(web_app, session, users, today):
    cases = _cases_in_every_stage(session, users, today)
    clients = {role: logged_in(web_app, role) for role in ROLES}
    anonymous = web_app.test_client()
    wrong = []
    for url, allowed in _matrix(cases):
        response = anonymous.get(url)
        if response.status_code != 302 or "/login" not in response.headers["Location"]:
            wrong.append((url, "anonymous", response.status_code))
        for role in ROLES:
            status = clients[role].get(url).status_code
            if status != (200 if role in allowed else 403):
                wrong.append((url, role, status))
    assert wrong == []


def test_a_refused_post_changes_nothing_and_answers_403(web_app, session, users, today):
    cases = _cases_in_every_stage(session, users, today)
    registered = cases["registered"]
    for role in ROLES:
        if role in ("clerk", "office_head"):
            continue
        c = logged_in(web_app, role)
        response = c.post(f"/cases/{registered.id}/do/accept", data={"version": registered.version,
                                                                      "department_id": 1})
        assert response.status_code == 403, role
    drafting = cases["drafting"]
    item = drafting.items[0]
    clerk = logged_in(web_app, "clerk")
    response = clerk.post(f"/cases/{drafting.id}/decide", data={"version": drafting.version,
                                                               f"outcome_{item.id}": "DISCLOSED"})
    assert response.status_code == 403
    assert "只能由承办人执行" in response.get_data(as_text=True)
    response = clerk.post(f"/cases/{cases['in_review'].id}/sign", data={"version": cases["in_review"].version})
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Case, registered.id).stage == "registered"
    assert session.get(Case, cases["in_review"].id).stage == "in_review"


def test_a_user_of_another_agency_gets_404_for_the_case_its_letters_and_uploads(web_app, session, users, today):
    clerk = logged_in(web_app, "clerk")
    case = session.get(Case, register_via_web(clerk))
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    from io import BytesIO

    clerk.post(f"/cases/{case.id}/uploads", data={"kind": "application", "file": (BytesIO(png), "scan.png")},
               content_type="multipart/form-data")
    other = add_agency(session, "OTHER", "另一市人民政府办公室", review_body="另一市人民政府", court="另一市中级人民法院")
    add_user(session, other, "outsider", PASSWORD, list(ROLES))
    session.commit()
    outsider = logged_in(web_app, "outsider")
    session.expire_all()
    from engine.persistence.models import Upload

    upload = session.scalar(select(Upload).where(Upload.case_id == case.id))
    letter = session.scalar(select(Letter).where(Letter.case_id == case.id))
    urls = [f"/cases/{case.id}", f"/cases/{case.id}/do/accept", f"/cases/{case.id}/decide",
            f"/cases/{case.id}/review", f"/cases/{case.id}/preview.pdf", f"/uploads/{upload.id}"]
    urls.append(f"/letters/{letter.id}.pdf")
    for url in urls:
        assert outsider.get(url).status_code == 404, url
    assert outsider.post(f"/cases/{case.id}/do/withdraw", data={"version": case.version, "reason": "x"}).status_code == 404
    assert case.reg_no not in outsider.get("/cases").get_data(as_text=True)
    assert clerk.get(f"/uploads/{upload.id}").data == png
    assert clerk.get(f"/letters/{letter.id}.pdf").data.startswith(b"%PDF")


def test_garbage_posted_to_every_form_by_every_role_never_gives_a_500(web_app, session, users, today):
    cases = _cases_in_every_stage(session, users, today)
    garbage = {"version": "x", "department_id": "x", "handler_id": "-1", "items": "", "period_working_days": "9999",
               "received_on": "2026-02-30", "confirmed_on": "yesterday", "kind": "NOPE", "party_name": "",
               "sent_on": "", "mode": "BOTH", "units": "-5", "working_days": "99", "reason": "", "method": "FLY",
               "delivered_on": "3000-01-01", "letter_id": "999999", "retention": "FOREVER", "conclusion": "MAYBE",
               "reviewed_on": "", "decision": "perhaps", "comment": "", "ground": "NOT_A_GROUND",
               "consultation_id": "abc", "answer": "LATER", "answered_on": "", "filed_on": "", "result": "WON"}
    posts = []
    for case in cases.values():
        posts += [f"/cases/{case.id}/do/{name}" for name in (
            "confirm_receipt", "request_supplement", "receive_supplement", "close_lapsed", "withdraw", "accept",
            "assign", "open_consultation", "record_consultation_answer", "issue_fee_notice", "record_payment",
            "extend", "record_delivery", "record_challenge", "archive")]
        posts += [f"/cases/{case.id}/decide", f"/cases/{case.id}/submit", f"/cases/{case.id}/sign",
                  f"/cases/{case.id}/review/return", f"/cases/{case.id}/review/exemptions/999999"]
        for item in case.items:
            posts += [f"/cases/{case.id}/items/{item.id}/exemption", f"/cases/{case.id}/items/{item.id}/confidentiality",
                      f"/cases/{case.id}/decide"]
    posts += ["/register", "/admin/users", "/admin/users/999999/unlock", "/admin/departments", "/admin/agency",
              "/admin/agency/seal", "/admin/tokens", "/admin/tokens/999999/revoke", "/register/duplicates"]
    failures = []
    for role in ("clerk", "handler", "legal_reviewer", "office_head", "archivist", "admin"):
        c = logged_in(web_app, role)
        for url in posts:
            status = c.post(url, data=garbage).status_code
            if status >= 500:
                failures.append((role, url, status))
    assert failures == []
