"""An agency's own settings, departments and seal, changed by its administrators and audited (DESIGN §1: no view
writes rows or audit events)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, PermissionDenied
from engine.persistence import limits
from engine.persistence.audit import record_event
from engine.persistence.models import Agency, Department, User
from engine.persistence.numbering import PATTERN_FIELDS, pattern_problem
from engine.rules.outcomes import REVIEW_FIRST_OPTIONAL
from engine.services.accounts import add_department
from engine.services.common import optional_text, require_text
from engine.services.uploads import sniff

# The agency's text settings an administrator may change, with their labels (for the form and the messages).
AGENCY_TEXT_FIELDS = {
    "name": "机关名称", "reg_no_pattern": "登记编号格式", "letter_no_prefix": "发文机关代字",
    "letter_no_pattern": "文号格式", "archive_no_pattern": "档号格式", "review_body": "行政复议机关",
    "court": "管辖法院", "contact": "联系方式", "address": "通信地址", "online_review_channel": "网上复议渠道",
}
MAX_SETTING_LENGTH = 300
MAX_TOPICS = 100
# settings key: the agency seals printed letters by hand, so letters print “（印章）” where the seal goes
SEAL_PLACEHOLDER = "seal_placeholder"


@dataclass
class AgencySettingsForm:
    texts: dict[str, str]
    supplement_period_working_days: int | None
    fee_pauses_clock: bool
    online_manual_confirmation: bool
    topics: list[str] = field(default_factory=list)
    fee_payment_method: str = ""
    # Points the law leaves open (legal reference §11A, 未核验): whether a 条例35 request for reasons pauses the reply
    # clock, and which outcomes besides 不予公开 the remedies word as review-first (行政复议法第23条第1款第(四)项).
    reason_request_pauses_clock: bool = False
    review_first_also: list[str] = field(default_factory=list)
    seal_placeholder: bool = False
    contact_phone: str = ""
    # 一人办公室: the one person who decides may also sign (each such signature is marked, see reply.py).
    one_person_office: bool = False


def _column_length(name: str) -> int:
    return getattr(Agency, name).property.columns[0].type.length


def _admin_agency(session: Session, actor: User) -> Agency:
    if actor is None or not actor.has_role("admin"):
        raise PermissionDenied("只有本机关的系统管理员可以修改机关设置")
    return session.get(Agency, actor.agency_id)


def create_department(session: Session, name: str, *, actor: User) -> Department:
    """A new department of the actor's agency (unique name)."""
    agency = _admin_agency(session, actor)
    name = require_text(name, "部门名称", max_len=limits.DEPARTMENT_NAME, multiline=False, field="name")
    exists = session.scalar(select(Department.id).where(Department.agency_id == agency.id, Department.name == name))
    if exists:
        raise InvalidInput(f"部门「{name}」已存在")
    department = add_department(session, agency, name)
    record_event(session, agency_id=agency.id, action="add_department", actor=actor, changes={"name": name})
    return department


def update_agency_settings(session: Session, form: AgencySettingsForm, *, actor: User) -> dict:
    """Change the agency's settings; returns what changed (also recorded in the audit trail)."""
    agency = _admin_agency(session, actor)
    changes = {}
    for name, label in AGENCY_TEXT_FIELDS.items():
        value = (form.texts.get(name) or "").strip()
        if name == "name" and not value:
            raise InvalidInput("机关名称不能为空")
        value = optional_text(value, label, max_len=min(MAX_SETTING_LENGTH, _column_length(name)), field=name)
        if name in PATTERN_FIELDS:
            problem = pattern_problem(value, PATTERN_FIELDS[name], label)
            if problem:
                raise InvalidInput(problem, details={"field": name})
        if getattr(agency, name) != value:
            changes[name] = {"before": getattr(agency, name), "after": value}
    period = form.supplement_period_working_days
    if period is None or not 1 <= period <= 60:
        raise InvalidInput("补正期限应为 1 至 60 个工作日")
    if len(form.contact_phone.strip()) > 60:
        raise InvalidInput("联系电话过长")
    columns = {"supplement_period_working_days": period, "fee_pauses_clock": bool(form.fee_pauses_clock),
               "online_manual_confirmation": bool(form.online_manual_confirmation),
               "topics": [t.strip() for t in form.topics if t.strip()][:MAX_TOPICS]}
    for name, value in columns.items():
        if getattr(agency, name) != value:
            changes[name] = {"before": getattr(agency, name), "after": value}
    for name, change in changes.items():
        setattr(agency, name, change["after"])
    unknown = [c for c in form.review_first_also if c not in REVIEW_FIRST_OPTIONAL]
    if unknown:
        raise InvalidInput("可选择按复议前置告知的办理结果无效：" + "、".join(unknown))
    before = agency.settings or {}
    settings = {"fee_payment_method": form.fee_payment_method.strip(),
                "reason_request_pauses_clock": bool(form.reason_request_pauses_clock),
                "review_first_also": [c for c in REVIEW_FIRST_OPTIONAL if c in form.review_first_also],
                SEAL_PLACEHOLDER: bool(form.seal_placeholder),
                "contact_phone": form.contact_phone.strip(),
                "one_person_office": bool(form.one_person_office)}
    for name, value in settings.items():
        if before.get(name) != value and (before.get(name) or value):
            changes[name] = {"before": before.get(name), "after": value}
    agency.settings = {**before, **settings}
    record_event(session, agency_id=agency.id, action="update_agency_settings", actor=actor, changes=changes)
    return changes


MAX_SEAL_BYTES = 2 * 1024 * 1024


def set_seal_image(session: Session, content: bytes, *, actor: User) -> None:
    """Keep the agency's seal image (PNG or JPEG, ≤ 2 MB) in the database with the agency, so a database backup
    carries it; its SHA-256 goes into the audit trail."""
    agency = _admin_agency(session, actor)
    if sniff(content or b"") not in ("png", "jpeg") or len(content) > MAX_SEAL_BYTES:
        raise InvalidInput("印章图片须为 PNG 或 JPEG，且不超过 2 MB", details={"field": "seal"})
    agency.seal_image_data = content
    agency.seal_image_sha256 = hashlib.sha256(content).hexdigest()
    agency.seal_image = None
    record_event(session, agency_id=agency.id, action="upload_seal", actor=actor,
                 changes={"sha256": agency.seal_image_sha256, "bytes": len(content)})


def seal_placeholder_chosen(agency: Agency) -> bool:
    """The agency seals the printed letter by hand: letters print “（印章）” at the seal position instead of an image."""
    return bool((agency.settings or {}).get(SEAL_PLACEHOLDER))


def seal_problem(agency: Agency) -> str | None:
    """Why the agency's replies cannot be signed for want of a seal (GB/T 9704-2012 §7.3.5.1: 加盖印章), or None."""
    if agency.seal_image_data or seal_placeholder_chosen(agency):
        return None
    return ("本机关尚未设置印章：请系统管理员在“机关设置”中上传电子印章图片，"
            "或选择在印章位置印“（印章）”、签发后加盖实物印章")
