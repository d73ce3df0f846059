"""Agency wording versions (engine.services.letter_wording): saved as new versions, activated, audited, carried by
every letter the engine issues; frozen letters keep their bytes; every letter type prints it in its PDF."""

from __future__ import annotations

import re
import subprocess

import pytest
from sqlalchemy import select

import letters
from engine.errors import InvalidInput, NotFound, PermissionDenied
from engine.persistence.audit import verify_chain
from engine.persistence.models import AuditEvent, Letter, LetterWording
from engine.services import letter_wording
from engine.services.casefile_collect import describe_changes
from letters import LETTER_TYPES, sample_data, wording
from tests.integration.helpers_cases import register
from webui.letters_adapter import WORDING_CATALOGUE

# A page's footer (— 1 —) and the next page's 样稿 mark, where a paragraph runs over a page.
PAGE_BREAK = re.compile(r"—\d+—(?=.)(样稿（未签发）)?")


def _pdf_text(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return PAGE_BREAK.sub("", "".join(out.split()))


@pytest.mark.parametrize("letter_type", sorted(LETTER_TYPES))
def test_every_letter_type_prints_a_custom_version_of_every_slot_in_its_pdf(letter_type):
    custom = {slot.name: f"本机关{slot.label}第七版，" + "".join(f"{{{name}}}" for name in slot.required)
              for slot in wording.slots(letter_type)}
    data = {**sample_data()[letter_type], "wording": {"version": 7, "slots": custom}}
    rendered = letters.render_letter(letter_type, data)
    text = _pdf_text(rendered.pdf)
    for slot in wording.slots(letter_type):
        assert f"本机关{slot.label}第七版" in text, slot.name
    assert rendered.data_snapshot["wording"] == {"version": 7, "slots": custom}


def test_saving_makes_numbered_versions_with_history_and_audit(session, agency, users):
    admin = users["admin"]
    first = letter_wording.save_wording(session, agency, "reply", {"closing": "特此答复。"},
                                        catalogue=WORDING_CATALOGUE, actor=admin, source="管理页面")
    second = letter_wording.save_wording(session, agency, "reply", {"additional": "请凭登记编号{登记编号}领取纸质文书。"},
                                         catalogue=WORDING_CATALOGUE, actor=admin, activate=False)
    session.commit()
    assert (first.version, first.active, second.version, second.active) == (1, True, 2, False)
    assert second.slots["closing"] == "特此答复。"  # the slots not given are kept from the version in force
    shown = letter_wording.active_wording(session, agency, "reply", catalogue=WORDING_CATALOGUE).as_json()
    assert shown == {"type": "reply", "version": 1, "slots": {**wording.default_slots("reply"), "closing": "特此答复。"},
                     "placeholders": wording.placeholder_names("reply")}
    history = letter_wording.wording_history(session, agency, "reply", catalogue=WORDING_CATALOGUE)
    assert [(v.version, v.active, v.created_by) for v in history] == [(2, False, "admin用户"), (1, True, "admin用户")]
    assert history[1].changes == {"closing": {"before": "特此告知。", "after": "特此答复。"}}
    assert history[0].changes == {"additional": {"before": "", "after": "请凭登记编号{登记编号}领取纸质文书。"}}
    events = session.scalars(select(AuditEvent).where(AuditEvent.action.like("%letter_wording"))
                             .order_by(AuditEvent.seq)).all()
    assert [e.action for e in events] == ["save_letter_wording", "activate_letter_wording", "save_letter_wording"]
    assert events[0].changes["slots"] == {"closing": {"before": "特此告知。", "after": "特此答复。"}}
    assert verify_chain(session, agency) is None


def test_refused_wording_saves_nothing_and_names_the_slot(session, agency, users):
    for slots, slot in (({"contact": "{{ 7*7 }}"}, "contact"), ({"closing": "{% for x in y %}"}, "closing"),
                        ({"additional": "<script>alert(1)</script>"}, "additional"),
                        ({"signature": "{机关名称}{经办人}"}, "signature")):
        with pytest.raises(InvalidInput) as refused:
            letter_wording.save_wording(session, agency, "receipt", slots, catalogue=WORDING_CATALOGUE,
                                        actor=users["admin"])
        assert list(refused.value.details) == [slot] and f"（{slot}）" in refused.value.message
    with pytest.raises(InvalidInput):
        letter_wording.save_wording(session, agency, "nosuch", {"closing": "此致"}, catalogue=WORDING_CATALOGUE,
                                    actor=users["admin"])
    assert session.scalar(select(LetterWording)) is None


def test_only_the_agency_administrator_changes_wording(session, agency, users):
    with pytest.raises(PermissionDenied):
        letter_wording.save_wording(session, agency, "receipt", {"closing": "此致"}, catalogue=WORDING_CATALOGUE,
                                    actor=users["clerk"])
    with pytest.raises(PermissionDenied):
        letter_wording.activate_wording(session, agency, "receipt", 0, actor=users["handler"])
    with pytest.raises(NotFound):
        letter_wording.activate_wording(session, agency, "receipt", 4, actor=users["admin"])


def test_the_next_receipt_carries_the_active_wording_and_older_receipts_keep_their_bytes(session, agency, users,
                                                                                          today):
    earlier_case, _code = register(session, users, today)
    earlier = session.scalar(select(Letter).where(Letter.case_id == earlier_case.id))
    stored = bytes(earlier.pdf)
    letter_wording.save_wording(session, agency, "receipt", {"contact": "咨询电话：{联系电话}（工作日）"},
                                catalogue=WORDING_CATALOGUE, actor=users["admin"])
    agency.settings = {**(agency.settings or {}), "contact_phone": "0571-55556666"}
    session.commit()
    case, _code = register(session, users, today)
    receipt = session.scalar(select(Letter).where(Letter.case_id == case.id))
    assert receipt.wording_version == 1 and receipt.data_snapshot["wording"]["version"] == 1
    assert "咨询电话：0571-55556666（工作日）" in _pdf_text(receipt.pdf)
    issued = session.scalars(select(AuditEvent).where(AuditEvent.action == "issue_letter")
                             .order_by(AuditEvent.seq)).all()
    assert [e.changes["wording_version"] for e in issued] == [0, 1]
    assert "措辞版本：1" in describe_changes(issued[1].changes)  # the case file's process record, in Chinese
    letter_wording.activate_wording(session, agency, "receipt", 0, actor=users["admin"])
    session.commit()
    session.expire_all()
    assert bytes(session.get(Letter, earlier.id).pdf) == stored
    assert "咨询电话" not in _pdf_text(session.get(Letter, earlier.id).pdf)
    third, _code = register(session, users, today)
    assert session.scalar(select(Letter.wording_version).where(Letter.case_id == third.id)) == 0


def test_an_import_saves_one_version_per_type_or_nothing(session, agency, users):
    payload = {"letters": {"receipt": {"slots": {"closing": "特此回执。"}},
                           "fee_notice": {"slots": {"contact": "缴费咨询：{联系电话}"}}}}
    with pytest.raises(InvalidInput) as refused:
        letter_wording.import_wording(session, agency, {"letters": {**payload["letters"], "memo": {"slots": {}}}},
                                      catalogue=WORDING_CATALOGUE, actor=users["admin"])
    assert refused.value.details == {"memo": "未知的文书类型：memo"}
    assert session.scalar(select(LetterWording)) is None
    rows = letter_wording.import_wording(session, agency, payload, catalogue=WORDING_CATALOGUE,
                                         actor=users["admin"], activate=False, source="导入：上海.json")
    assert [(r.letter_type, r.version, r.active) for r in rows] == [("receipt", 1, False), ("fee_notice", 1, False)]
