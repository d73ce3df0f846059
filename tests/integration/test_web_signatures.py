"""Signatures through the channels: 签发 on the web page and over the API both yield a letter whose signature
verifies; the clerks' verification page checks a stored letter or an uploaded PDF; no page or API shows a key."""

from __future__ import annotations

import io

from sqlalchemy import select

from engine.persistence.models import Letter, SigningKey
from letters.signing import verify_pdf
from tests.integration import helpers_cases as hc
from tests.integration import test_web_support as support
from tests.integration.api_harness import api_app_fixture, api_fixture, tokens_fixture  # noqa: F401
from tests.integration.test_web_support import logged_in

web_app = support.web_app


def _ready_for_signing(session, users, today):
    case, _ = hc.register(session, users, today)
    hc.accept(session, users, case, today)
    hc.decide_disclosed(session, users, case, today)
    from engine import services

    services.submit_for_review(session, case.id, actor=users["handler"], today=today)
    session.commit()
    return case


def test_a_reply_signed_on_the_web_page_verifies_and_its_signature_page_says_so(web_app, session, users, today):
    case = _ready_for_signing(session, users, today)
    reviewer = logged_in(web_app, "legal_reviewer")
    response = reviewer.post(f"/cases/{case.id}/sign", data={"version": case.version, "confirmed": "1"})
    assert response.status_code == 303, response.get_data(as_text=True)
    session.expire_all()
    reply = session.scalar(select(Letter).where(Letter.case_id == case.id, Letter.letter_type == "reply"))
    assert verify_pdf(reply.pdf).ok
    key = session.scalar(select(SigningKey).where(SigningKey.id == reply.signing_key_id))

    page = reviewer.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f"/letters/{reply.id}/signature" in page
    clerk = logged_in(web_app, "clerk")
    shown = clerk.get(f"/letters/{reply.id}/signature").get_data(as_text=True)
    assert "签名有效：文件自签名以来未被改动" in shown and key.fingerprint_sha256 in shown
    assert "本系统登记的签名证书" in shown and "自签发证书" in shown


def test_the_verification_page_checks_an_uploaded_pdf_and_names_a_changed_one(web_app, session, users, today):
    letter = hc.review_and_sign(session, users, _ready_for_signing_for_upload(session, users, today), today)
    clerk = logged_in(web_app, "clerk")
    assert "上传 PDF 验证" in clerk.get("/letters/verify").get_data(as_text=True)
    good = clerk.post("/letters/verify", data={"pdf": (io.BytesIO(letter.pdf), "reply.pdf")},
                      content_type="multipart/form-data").get_data(as_text=True)
    assert "签名有效" in good
    damaged = bytearray(letter.pdf)
    damaged[len(damaged) // 3] ^= 0x01
    bad = clerk.post("/letters/verify", data={"pdf": (io.BytesIO(bytes(damaged)), "reply.pdf")},
                     content_type="multipart/form-data").get_data(as_text=True)
    assert "签名无效" in bad and "签名后文件内容被改动" in bad
    junk = clerk.post("/letters/verify", data={"pdf": (io.BytesIO(b"\x00" * 100), "x.pdf")},
                      content_type="multipart/form-data")
    assert junk.status_code == 200 and "签名无效" in junk.get_data(as_text=True)
    empty = clerk.post("/letters/verify", data={}, content_type="multipart/form-data")
    assert empty.status_code == 200 and "请选择要验证的 PDF 文件" in empty.get_data(as_text=True)


def _ready_for_signing_for_upload(session, users, today):
    case, _ = hc.register(session, users, today)
    hc.accept(session, users, case, today)
    hc.decide_disclosed(session, users, case, today)
    return case


def test_another_agencys_letter_signature_page_is_not_found(web_app, session, users, today):
    from engine.services.accounts import add_agency, add_user

    letter = hc.review_and_sign(session, users, _ready_for_signing_for_upload(session, users, today), today)
    other = add_agency(session, "OTHER", "另一机关")
    add_user(session, other, "outsider", "demo-password-1", ["clerk"])
    session.commit()
    outsider = logged_in(web_app, "outsider")
    assert outsider.get(f"/letters/{letter.id}/signature").status_code == 404
    assert outsider.get(f"/letters/{2**63}/signature").status_code == 404
    assert outsider.get("/letters/999999/signature").status_code == 404


def test_a_reply_signed_over_the_api_verifies_and_no_answer_carries_the_private_key(api, session, users, today):
    case = _ready_for_signing(session, users, today)
    status, data = api["legal_reviewer"].act(case.id, "sign", {"version": case.version})
    assert status == 200, data
    shown = next(x for x in data["case"]["letters"] if x["id"] == data["created"]["letter_id"])
    status, pdf = api["clerk"].get("/" + shown["download_url"])
    assert status == 200 and verify_pdf(pdf).ok
    letter = session.get(Letter, shown["id"])
    key = session.scalar(select(SigningKey).where(SigningKey.id == letter.signing_key_id))
    status, seen = api["legal_reviewer"].get(f"/cases/{case.id}")
    assert status == 200
    body = repr(seen) + repr(data)
    assert key.encrypted_private_key.hex()[:32] not in body and "private" not in body.lower()
