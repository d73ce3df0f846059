"""The letter catalogue (DESIGN §5; legal reference §6.2): type → title, data class, template, version."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

from letters import data
from letters.assets import ASSETS_DIR, PACKAGE_DIR

TEMPLATES_DIR = PACKAGE_DIR / "templates"
SHARED_FILES = (TEMPLATES_DIR / "base.html", TEMPLATES_DIR / "_macros.html", ASSETS_DIR / "letter.css")


@dataclass(frozen=True)
class LetterSpec:
    """One letter type: its Chinese title, the dataclass of its data and the template that renders it."""

    letter_type: str
    title: str
    data_class: type
    template: str

    @property
    def version(self) -> str:
        """Type plus a short hash of its template and the shared template and CSS; changes when they do."""
        return _template_version(self.letter_type, self.template)


@functools.cache
def _template_version(letter_type: str, template: str) -> str:
    digest = hashlib.sha256()
    for path in (TEMPLATES_DIR / template, *SHARED_FILES):
        digest.update(path.read_bytes())
    return f"{letter_type}@{digest.hexdigest()[:12]}"


def _spec(letter_type: str, title: str, data_class: type) -> tuple[str, LetterSpec]:
    return letter_type, LetterSpec(letter_type, title, data_class, f"{letter_type}.html")


LETTER_TYPES: dict[str, LetterSpec] = dict([
    _spec("receipt", "政府信息公开申请登记回执", data.ReceiptData),
    _spec("supplement_notice", "政府信息公开申请补正告知书", data.SupplementNoticeData),
    _spec("reason_request", "政府信息公开申请说明理由告知书", data.ReasonRequestData),
    _spec("extension_notice", "政府信息公开申请延期答复告知书", data.ExtensionNoticeData),
    _spec("delay_notice", "政府信息公开申请延迟答复告知书", data.DelayNoticeData),
    _spec("third_party_consultation", "政府信息公开征求第三方意见书", data.ThirdPartyConsultationData),
    _spec("third_party_disclosure_notice", "政府信息公开决定告知书", data.ThirdPartyDisclosureNoticeData),
    _spec("agency_consultation", "政府信息公开征求意见书", data.AgencyConsultationData),
    _spec("consultation_notice", "政府信息公开申请征求意见告知书", data.ConsultationNoticeData),
    _spec("fee_notice", "政府信息公开信息处理费收费通知书", data.FeeNoticeData),
    _spec("reply", "政府信息公开申请答复书", data.ReplyData),
    _spec("termination_notice", "政府信息公开申请终止办理告知书", data.TerminationNoticeData),
])
