"""Signing needs a seal (an image, or “（印章）” for a seal applied by hand) and the letter's own fonts: the engine
refuses otherwise, the same way for the web, the API and the CLI, and the sign page says so before the click."""

from __future__ import annotations

import io
import subprocess

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from engine import services
from engine.errors import RuleViolation
from engine.persistence.models import AuditEvent, Case, Letter
from engine.services.agency_admin import AgencySettingsForm, set_seal_image, update_agency_settings
from engine.services.decisions import signing_problems
from tests.integration import helpers_cases as h
from tests.integration.api_harness import api_app_fixture, api_fixture, tokens_fixture  # noqa: F401
from tests.integration.test_web_support import logged_in, web_app  # noqa: F401

NO_SEAL = "本机关尚未设置印章"


def pdf_text(pdf: bytes) -> str:
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return "".join(text.split())


def in_review(session, users, today) -> Case:
    case, _ = h.register(session, users, today)
    h.accept(session, users, case, today)
    h.decide_disclosed(session, users, case, today)
    services.submit_for_review(session, case.id, actor=users["handler"], today=today)
    session.commit()
    return case


def without_seal(session, agency) -> None:
    agency.settings = {key: value for key, value in (agency.settings or {}).items() if key != "seal_placeholder"}
    agency.seal_image = None
    agency.seal_image_data, agency.seal_image_sha256 = None, ""
    session.commit()


def settings_form(agency, **changes) -> AgencySettingsForm:
    texts = {name: getattr(agency, name) for name in ("name", "reg_no_pattern", "letter_no_prefix", "letter_no_pattern",
                                                      "archive_no_pattern", "review_body", "court", "contact",
                                                      "address", "online_review_channel")}
    return AgencySettingsForm(texts=texts, supplement_period_working_days=agency.supplement_period_working_days,
                              fee_pauses_clock=agency.fee_pauses_clock,
                              online_manual_confirmation=agency.online_manual_confirmation, topics=list(agency.topics),
                              **changes)


def sign(session, users, case, today):
    from webui.letters_adapter import renderer_for

    return services.sign_reply(session, case.id, renderer=renderer_for(case.agency), actor=users["legal_reviewer"],
                               today=today).letter


# ---------------------------------------------------------------- the seal

def test_a_reply_is_not_signed_while_the_agency_has_neither_a_seal_image_nor_the_placeholder(session, users, today,
                                                                                          agency):
    without_seal(session, agency)
    case = in_review(session, users, today)
    assert any(NO_SEAL in problem for problem in signing_problems(session, case))
    with pytest.raises(RuleViolation, match=NO_SEAL + ".*上传电子印章图片.*（印章）"):
        sign(session, users, case, today)
    session.rollback()
    assert session.get(Case, case.id).stage == "in_review"
    assert session.scalar(select(Letter.id).where(Letter.case_id == case.id, Letter.letter_type == "reply")) is None


def test_choosing_the_placeholder_in_the_settings_lets_the_reply_be_signed_with_it_printed(session, users, today,
                                                                                        agency):
    without_seal(session, agency)
    case = in_review(session, users, today)
    changes = update_agency_settings(session, settings_form(agency, seal_placeholder=True), actor=users["admin"])
    session.commit()
    assert changes["seal_placeholder"]["after"] is True
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "update_agency_settings")).all()[-1]
    assert event.changes["seal_placeholder"]["after"] is True
    assert signing_problems(session, case) == []
    letter = sign(session, users, case, today)
    assert "（印章）" in pdf_text(letter.pdf)


def test_an_uploaded_seal_image_lets_the_reply_be_signed_and_is_drawn_instead_of_the_placeholder(
        session, users, today, agency, tmp_path):
    without_seal(session, agency)
    case = in_review(session, users, today)
    seal = tmp_path / "seal.png"
    Image.new("RGBA", (120, 120), (200, 0, 0, 255)).save(seal)
    set_seal_image(session, seal.read_bytes(), actor=users["admin"])
    session.commit()
    letter = sign(session, users, case, today)
    reader = PdfReader(io.BytesIO(letter.pdf))
    # The signed reply draws the seal in its signature's appearance at the seal position (issue 19), so look in the
    # page's and the annotations' form XObjects alike.
    def images(resources, depth=0):
        found = []
        for x in (resources or {}).get("/XObject", {}).values():
            x = x.get_object()
            if x.get("/Subtype") == "/Image":
                found.append(x)
            elif depth < 4:
                found += images(x.get("/Resources"), depth + 1)
        return found

    drawn = [image for page in reader.pages for image in images(page["/Resources"])]
    drawn += [image for page in reader.pages for annotation in page.get("/Annots", []) or []
              for image in images({"/XObject": {"/N": annotation.get_object().get("/AP", {}).get("/N")}}
                                  if annotation.get_object().get("/AP") else None)]
    assert drawn and "（印章）" not in pdf_text(letter.pdf)


def test_the_sign_page_names_the_missing_seal_before_the_click(web_app, session, users, today, agency):  # noqa: F811
    without_seal(session, agency)
    case = in_review(session, users, today)
    page = logged_in(web_app, "legal_reviewer").get(f"/cases/{case.id}/review").get_data(as_text=True)
    assert NO_SEAL in page and "可以签发" not in page


def test_the_api_refuses_to_sign_without_a_seal_with_the_same_message(api, session, users, today, agency):  # noqa: F811
    without_seal(session, agency)
    case = in_review(session, users, today)
    status, body = api["legal_reviewer"].act(case.id, "sign", {"version": session.get(Case, case.id).version})
    assert status == 422 and NO_SEAL in str(body)


def test_the_admin_page_offers_the_placeholder_and_saves_it(web_app, session, users, agency):  # noqa: F811
    without_seal(session, agency)
    admin = logged_in(web_app, "admin")
    page = admin.get("/admin/agency").get_data(as_text=True)
    assert 'name="seal_placeholder"' in page and "否则答复书不能签发" in page
    form = {name: getattr(agency, name) or "" for name in ("name", "reg_no_pattern", "letter_no_prefix",
                                                            "letter_no_pattern", "archive_no_pattern", "review_body",
                                                            "court", "contact", "address", "online_review_channel")}
    response = admin.post("/admin/agency", data={**form, "supplement_period_working_days": "15",
                                                 "topics": "其他", "seal_placeholder": "1"})
    assert response.status_code == 303
    session.expire_all()
    assert agency.settings["seal_placeholder"] is True
    assert "已选择加盖实物印章" in admin.get("/admin/agency").get_data(as_text=True)


# ---------------------------------------------------------------- fonts

def with_missing_body_font(session, agency, tmp_path):
    missing = tmp_path / "仿宋_GB2312.ttf"
    agency.settings = {**agency.settings, "fonts": {"fangsong": str(missing)}}
    session.commit()
    return missing


def test_signing_is_refused_naming_a_missing_body_font_and_the_preview_still_renders_marked_draft(
        session, users, today, agency, tmp_path):
    from webui.letters_adapter import renderer_for

    case = in_review(session, users, today)
    missing = with_missing_body_font(session, agency, tmp_path)
    problems = signing_problems(session, case, renderer_for(agency))
    assert any(str(missing) in problem and "仿宋" in problem for problem in problems)
    with pytest.raises(RuleViolation, match="仿宋_GB2312.ttf"):
        sign(session, users, case, today)
    session.rollback()
    preview = services.preview_reply(session, case.id, renderer=renderer_for(agency), actor=users["legal_reviewer"],
                                     today=today)
    assert "样稿（未签发）" in pdf_text(preview.pdf)


def test_a_numbered_letter_is_not_issued_in_a_fallback_font_either(session, users, today, agency, tmp_path):
    from webui.letters_adapter import renderer_for

    case, _ = h.register(session, users, today)  # the 登记回执 (no 文号) is issued even so: see test_letter_rendering
    with_missing_body_font(session, agency, tmp_path)
    with pytest.raises(RuleViolation, match="文书无法生成.*仿宋_GB2312.ttf"):
        services.request_supplement(session, case.id, renderer=renderer_for(agency), items=["请写明所需文件的名称"],
                                    actor=users["clerk"], today=today)


def test_the_sign_page_names_the_missing_font_before_the_click(web_app, session, users, today, agency,  # noqa: F811
                                                                tmp_path):
    case = in_review(session, users, today)
    missing = with_missing_body_font(session, agency, tmp_path)
    page = logged_in(web_app, "legal_reviewer").get(f"/cases/{case.id}/review").get_data(as_text=True)
    assert str(missing) in page and "可以签发" not in page
