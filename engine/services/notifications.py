"""Notifications (issue 15): who is told what, written as `messages` rows with a send job in the action's transaction.

A `CaseEvent` subscriber turns five events into messages to the applicant (登记, 补正告知, 征求意见, 延期, 答复书已签发),
and two into a message to a staff member (a case assigned to them, a reply returned for revision). Each message is
a row (the outbox and the log shown on the case page) and one `send_message` job (`notify_jobs`): a dry run that is
rolled back writes neither, so nothing is sent. E-mail goes where the applicant gave an address and SMTP is
configured; an SMS where a phone number was given and a gateway is configured. An SMS names nothing personal beyond
the 登记编号.

Templates are plain Python string formats here (Chinese), each giving a subject, a plain text and an HTML body.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date
from html import escape
from urllib.parse import quote

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.config import Settings, load_settings
from engine.persistence.audit import utcnow
from engine.persistence.models import Agency, AuditEvent, Case, Message, User
from engine.rules.vocabulary import STAGE_LABELS
from engine.services import jobs
from engine.services.case_events import CaseEvent, subscribe

SEND_JOB = "send_message"
# Audit action → the applicant message it calls for.
APPLICANT_KINDS = {
    "register_request": "registered",
    "request_supplement": "supplement_requested",
    "open_consultation": "consultation_opened",
    "extend": "extended",
    "sign": "reply_ready",
}
KIND_LABELS = {
    "registered": "登记告知",
    "supplement_requested": "补正告知",
    "consultation_opened": "征求意见告知",
    "extended": "延期告知",
    "reply_ready": "答复书已签发",
    "assigned": "分办提醒",
    "returned_for_revision": "退回修改提醒",
    "digest": "每日待办提醒",
}
FOOTER = "此邮件由系统自动发送，请勿直接回复。"


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str = ""


def progress_url(settings: Settings, reg_no: str) -> str:
    """The public progress page of a case (the applicant adds the 查询码 there)."""
    return f"{settings.public_url}/progress?reg_no={quote(reg_no, safe='')}"


def case_url(settings: Settings, case_id: int) -> str:
    return f"{settings.public_url}/cases/{case_id}"


def sms_signature(settings: Settings, agency: Agency) -> str:
    """【机关简称】: configured, or the agency's name."""
    return (settings.sms.signature if settings.sms and settings.sms.signature else "") or f"【{agency.name}】"


# ---------------------------------------------------------------- the subscriber

@subscribe
def on_case_event(session: Session, event: CaseEvent) -> None:
    """Write the messages an audited change calls for (and their send jobs), in the action's transaction."""
    kind = APPLICANT_KINDS.get(event.action)
    if kind is not None:
        _notify_applicant(session, event, kind)
    elif event.action in ("accept", "assign"):
        handler = event.case.handler
        before = (event.changes.get("before") or {}).get("handler_id") if event.action == "assign" else None
        if handler is not None and handler.id != before:
            _notify_staff(session, event, handler, "assigned")
    elif event.action == "return_for_revision" and event.case.handler is not None:
        _notify_staff(session, event, event.case.handler, "returned_for_revision")


def _event_id(session: Session, event: CaseEvent) -> int:
    """The audit event written for this change: the one the publisher names, else the case's latest (publish
    follows record_event in the same transaction)."""
    if event.audit_event_id is not None:
        return event.audit_event_id
    return session.scalar(select(func.max(AuditEvent.id)).where(AuditEvent.case_id == event.case.id)) or 0


def _notify_applicant(session: Session, event: CaseEvent, kind: str) -> None:
    settings = load_settings()
    case, applicant = event.case, event.case.applicant
    agency = session.get(Agency, case.agency_id)
    to_email = bool(applicant.email and email_configured(settings))
    to_phone = bool(applicant.phone and settings.sms is not None)
    if not (to_email or to_phone):  # no channel to the applicant: the event is not looked up
        return
    event_id = _event_id(session, event)
    if to_email:
        mail = compose_applicant_email(kind, case, agency, settings)
        _add(session, case=case, user=None, channel="email", kind=kind, recipient=applicant.email, composed=mail,
             dedup_key=f"case-event:{event_id}:{kind}:email", actor=event.actor)
    if to_phone:
        text = compose_applicant_sms(kind, case, agency, settings)
        _add(session, case=case, user=None, channel="sms", kind=kind, recipient=applicant.phone,
             composed=Composed("", text), dedup_key=f"case-event:{event_id}:{kind}:sms", actor=event.actor)


def _notify_staff(session: Session, event: CaseEvent, user: User, kind: str) -> None:
    settings = load_settings()
    actor = event.actor
    if not user.email or not user.active or not email_configured(settings) or getattr(actor, "id", None) == user.id:
        return
    case = event.case
    event_id = _event_id(session, event)
    mail = compose_staff_email(kind, case, user, settings, actor=actor,
                               comment=session.scalar(select(AuditEvent.reason).where(AuditEvent.id == event_id)) or "")
    _add(session, case=case, user=user, channel="email", kind=kind, recipient=user.email, composed=mail,
         dedup_key=f"case-event:{event_id}:{kind}:user-{user.id}", actor=actor)


def _add(session: Session, *, case: Case | None, user: User | None, channel: str, kind: str, recipient: str,
         composed: Composed, dedup_key: str, actor=None, agency_id: int | None = None) -> Message | None:
    """One message row and its send job; None when a message with this key already exists."""
    if session.scalar(select(Message.id).where(Message.dedup_key == dedup_key)) is not None:
        return None
    now = utcnow()
    message = Message(agency_id=agency_id or case.agency_id, case_id=case.id if case else None,
                      user_id=user.id if user else None, channel=channel, kind=kind, recipient=recipient[:200],
                      subject=composed.subject[:300], body_text=composed.text, body_html=composed.html,
                      status="queued", attempts=0, last_error="", dedup_key=dedup_key, created_at=now, updated_at=now)
    try:
        with session.begin_nested():
            session.add(message)
            session.flush()
    except IntegrityError:  # a concurrent writer made the same message first
        return None
    jobs.enqueue(session, SEND_JOB, agency_id=message.agency_id, requested_by=getattr(actor, "username", "system"),
                 dedupe_key=f"message:{message.id}", message_id=message.id)
    return message


def email_configured(settings: Settings) -> bool:
    return bool(settings.smtp_url and settings.mail_from)


# ---------------------------------------------------------------- templates (Chinese)

def _applicant_lines(kind: str, case: Case) -> tuple[str, list[str]]:
    """The subject and the paragraphs of an applicant message (no link; the caller adds it)."""
    reg = case.reg_no
    if kind == "registered":
        received = (f"收到申请的日期为 {case.received_on.isoformat()}，答复期限自该日起算。" if case.received_on
                    else "收到申请的日期待我机关与您确认后确定。")
        return (f"您的政府信息公开申请已登记（登记编号 {reg}）",
                [f"我机关已登记您的政府信息公开申请，登记编号为 {reg}。{received}",
                 "请妥善保存登记编号和登记回执上的查询码，凭二者可随时查询办理进度。"])
    if kind == "supplement_requested":
        items = "；".join(str(item) for item in (case.supplement_items or []))
        due = f"请于 {case.supplement_due_on.isoformat()} 前补正。" if case.supplement_due_on else ""
        return (f"请补正您的政府信息公开申请（登记编号 {reg}）",
                [f"您的申请（登记编号 {reg}）内容不够明确，需要补正（《政府信息公开条例》第三十条）。{due}",
                 f"需要补正的事项：{items}" if items else "需要补正的事项见补正告知书。",
                 "逾期无正当理由不补正的，视为放弃申请。"])
    if kind == "consultation_opened":
        return (f"您的政府信息公开申请正在征求意见（登记编号 {reg}）",
                [f"您的申请（登记编号 {reg}）涉及第三方或其他机关，我机关正在征求意见。",
                 "征求意见所需时间不计算在答复期限内（《政府信息公开条例》第三十三条）。"])
    if kind == "extended":
        due = f"延长后的答复期限为 {case.due_on.isoformat()}。" if case.due_on else ""
        return (f"您的政府信息公开申请答复期限已延长（登记编号 {reg}）",
                [f"经政府信息公开工作机构负责人同意，您的申请（登记编号 {reg}）答复期限延长 "
                 f"{case.extension_working_days} 个工作日（《政府信息公开条例》第三十三条）。{due}",
                 f"延期理由：{case.extension_reason}" if case.extension_reason else ""])
    if kind == "reply_ready":
        return (f"您的政府信息公开申请已作出答复（登记编号 {reg}）",
                [f"我机关已对您的申请（登记编号 {reg}）作出答复，答复书已签发。",
                 "答复书将按您选择的方式送达；选择电子送达的，可在办理进度页面下载。"])
    raise ValueError(kind)


def compose_applicant_email(kind: str, case: Case, agency: Agency, settings: Settings) -> Composed:
    subject, paragraphs = _applicant_lines(kind, case)
    link = progress_url(settings, case.reg_no)
    name = case.applicant.name
    paragraphs = [p for p in paragraphs if p]
    text = "\n\n".join([f"{name}：", *paragraphs, f"办理进度查询：{link}", f"{agency.name}\n{FOOTER}"]) + "\n"
    html = _html([f"{name}：", *paragraphs], link, "查询办理进度", agency.name)
    return Composed(subject, text, html)


def compose_applicant_sms(kind: str, case: Case, agency: Agency, settings: Settings) -> str:
    """A short text: what happened, the 登记编号 and the progress link — nothing else personal."""
    what = {"registered": "已登记", "supplement_requested": "需要补正", "consultation_opened": "正在征求意见",
            "extended": "答复期限已延长", "reply_ready": "已作出答复"}[kind]
    return f"您的政府信息公开申请（登记编号{case.reg_no}）{what}，详情：{progress_url(settings, case.reg_no)}"


def compose_staff_email(kind: str, case: Case, user: User, settings: Settings, *, actor=None,
                        comment: str = "") -> Composed:
    link = case_url(settings, case.id)
    who = getattr(actor, "display_name", "") or "系统"
    if kind == "assigned":
        subject = f"新分办给您的申请：{case.reg_no}"
        due = f"答复期限 {case.due_on.isoformat()}。" if case.due_on else ""
        paragraphs = [f"{who}将申请 {case.reg_no} 分办给您承办。{due}"]
    else:
        subject = f"答复书被退回修改：{case.reg_no}"
        paragraphs = [f"{who}将申请 {case.reg_no} 的答复书退回修改。", f"审核意见：{comment}" if comment else ""]
    paragraphs = [f"{user.display_name}：", *(p for p in paragraphs if p)]
    text = "\n\n".join([*paragraphs, f"打开案件：{link}", FOOTER]) + "\n"
    return Composed(subject, text, _html(paragraphs, link, "打开案件", ""))


def _html(paragraphs: list[str], link: str, link_label: str, signature: str, *, extra: str = "") -> str:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    sign = f"<p>{escape(signature)}</p>" if signature else ""
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"></head>'
            f'<body style="font-family: sans-serif; line-height: 1.6">{body}'
            f'<p><a href="{escape(link, quote=True)}">{escape(link_label)}</a></p>{extra}{sign}'
            f'<p style="color:#666;font-size:small">{escape(FOOTER)}</p></body></html>')


# ---------------------------------------------------------------- unsubscribe from the digest

def unsubscribe_token(settings: Settings, user_id: int) -> str:
    """`<user id>.<HMAC>`: keyed with a key derived from the audit key (shared by every process of a cluster)."""
    key = hmac.new(settings.audit_key.encode(), b"gongkai digest unsubscribe v1", hashlib.sha256).digest()
    signature = hmac.new(key, f"unsubscribe:{user_id}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{user_id}.{signature}"


def user_of_unsubscribe_token(settings: Settings, token: str) -> int | None:
    user_id, _, _sig = (token or "").partition(".")
    if not user_id.isdigit() or len(user_id) > 12:
        return None
    return int(user_id) if hmac.compare_digest(unsubscribe_token(settings, int(user_id)), token) else None


def unsubscribe_url(settings: Settings, user_id: int) -> str:
    return f"{settings.public_url}/notifications/unsubscribe?token={unsubscribe_token(settings, user_id)}"


def set_digest(session: Session, user_id: int, enabled: bool) -> User | None:
    user = session.get(User, user_id)
    if user is not None:
        user.digest_enabled = enabled
        session.flush()
    return user


# ---------------------------------------------------------------- reading messages

def case_messages(session: Session, case_id: int) -> list[Message]:
    return list(session.scalars(select(Message).where(Message.case_id == case_id).order_by(Message.id)))


def stage_label(stage: str) -> str:
    return STAGE_LABELS.get(stage, stage)


def today_in_shanghai() -> date:
    from zoneinfo import ZoneInfo

    return utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()
