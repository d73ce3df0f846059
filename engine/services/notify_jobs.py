"""The background side of notifications: sending one message (`send_message`) and the staff's daily digest
(`staff_digests`, a periodic job of the scheduler or the embedded runner).

Sending is at-least-once made as close to exactly-once as a network allows: the body sends nothing for a message
already `sent` (a retried or taken-over job finds it so), marks it `sent` right after the server accepted it —
whether or not this attempt still holds the job — and uses a Message-ID stable over retries. A failure records the
attempt and the error on the message and raises, so the job is queued again after its backoff; after the last
attempt the message is `failed` with the error. A mail server that is down therefore loses nothing.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from sqlalchemy import select, update

from engine.config import load_settings
from engine.persistence.db import session_factory
from engine.persistence.models import Agency, Case, Job, Message, User
from engine.rules.clocks import due_status
from engine.rules.workflow import OPEN_STAGES
from engine.services import notifications
from engine.services.case_list import due_soon_limit
from engine.services.jobs import JobContext, JobOutput, job_kind
from engine.services.sending import SendError, build_email, message_id_for, send_email, send_sms

SEND_ATTEMPTS = 10  # with the backoff below: retried for about three hours before the message is `failed`
BACKOFF_SECONDS = float(os.environ.get("GONGKAI_NOTIFY_BACKOFF_SECONDS", "30"))
# A user's tasks by role (mirrors the dashboard's "我的待办"; the digest lists those due soon or overdue).
ROLE_STAGES = {
    "clerk": ("registered", "awaiting_supplement", "signed"),
    "legal_reviewer": ("in_review",),
}
HANDLER_STAGES = ("in_handling", "consulting", "drafting")


@job_kind(notifications.SEND_JOB, "发送通知", max_attempts=SEND_ATTEMPTS, backoff_seconds=BACKOFF_SECONDS)
def send_message(ctx: JobContext) -> JobOutput:
    message_id = int(ctx.args["message_id"])
    with session_factory(ctx.engine)() as session:
        message = session.get(Message, message_id)
        if message is None or message.status != "queued":
            state = message.status if message else "missing"
            return JobOutput({"message_id": message_id, "status": state, "message": "无需发送（已发送或已撤销）"})
        agency = session.get(Agency, message.agency_id)
        case = session.get(Case, message.case_id) if message.case_id else None
        max_attempts = session.scalar(select(Job.max_attempts).where(Job.id == ctx.job_id)) or SEND_ATTEMPTS
        settings = load_settings()
        try:
            answer = _deliver(message, agency, case, settings)
        except SendError as error:
            final = ctx.attempt >= max_attempts
            _record(ctx, message_id, status="failed" if final else "queued", error=str(error))
            raise
        _record(ctx, message_id, status="sent", error="")
    return JobOutput({"message_id": message_id, "status": "sent", "answer": answer[:200],
                      "message": f"已发送给 {message.recipient}"})


def _deliver(message: Message, agency: Agency, case: Case | None, settings) -> str:
    if message.channel == "email":
        if not notifications.email_configured(settings):
            raise SendError("未配置邮件服务器（GONGKAI_SMTP_URL、GONGKAI_MAIL_FROM）")
        headers = {}
        if message.kind == "digest" and message.user_id:
            link = notifications.unsubscribe_url(settings, message.user_id)
            headers["List-Unsubscribe"] = f"<{link}>"
        mail = build_email(mail_from=settings.mail_from, to=message.recipient, subject=message.subject,
                           text=message.body_text, html=message.body_html,
                           message_id=message_id_for(message.dedup_key, settings.mail_from),
                           date=datetime.now(UTC), headers=headers)
        send_email(settings.smtp_url, mail)
        return "250"
    if settings.sms is None:
        raise SendError("未配置短信网关（[sms] url 或 GONGKAI_SMS_URL）")
    return send_sms(settings.sms, phone=message.recipient, text=message.body_text,
                    signature=notifications.sms_signature(settings, agency), reg_no=case.reg_no if case else "")


def _record(ctx: JobContext, message_id: int, *, status: str, error: str) -> None:
    """The outcome of one attempt, committed at once and not fenced by the job's lease: a message the server
    accepted is `sent` whoever holds the job now, so no later attempt sends it again."""
    now = datetime.now(UTC)
    values = {"status": status, "attempts": Message.attempts + 1, "last_error": error[:2000], "updated_at": now}
    if status == "sent":
        values["sent_at"] = now
    with ctx.engine.begin() as conn:
        conn.execute(update(Message).where(Message.id == message_id, Message.status == "queued").values(**values))


# ---------------------------------------------------------------- the daily digest

@job_kind("staff_digests", "每日待办提醒")
def staff_digests(ctx: JobContext) -> JobOutput:
    """Once a day per user, from the configured hour (Asia/Shanghai) on: the tasks due within 3 working days and
    the overdue ones. Run hourly; the message's key (user and day) makes a second run that day write nothing."""
    settings = load_settings()
    now = datetime.now(UTC)
    local_now = now.astimezone(notifications_zone())
    if local_now.hour < settings.digest_hour or not notifications.email_configured(settings):
        return JobOutput({"written": 0, "message": "未到发送时间或未配置邮件服务器"})
    written = 0
    with ctx.transaction() as session:
        written = write_digests(session, local_now.date())
    return JobOutput({"written": written, "message": f"已生成 {written} 份每日待办提醒"})


def notifications_zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


def write_digests(session, today) -> int:
    """A digest message (and its send job) for every active user with an e-mail address, the digest on, and
    something due soon or overdue; `today` is the Asia/Shanghai date."""
    settings = load_settings()
    users = session.scalars(select(User).where(User.active.is_(True), User.email != "",
                                               User.digest_enabled.is_(True)).order_by(User.id)).all()
    written = 0
    for user in users:
        cases = user_due_cases(session, user, today)
        if not cases:
            continue
        composed = compose_digest(user, cases, today, settings)
        if notifications._add(session, case=None, user=user, channel="email", kind="digest", recipient=user.email,
                              composed=composed, dedup_key=f"digest:{user.id}:{today.isoformat()}",
                              agency_id=user.agency_id) is not None:
            written += 1
    return written


def user_due_cases(session, user: User, today) -> list[Case]:
    """The user's open tasks (by role; a handler's own cases) whose reply is due within 3 working days or overdue."""
    from sqlalchemy import and_, or_

    conditions = [Case.stage.in_(stages) for role, stages in ROLE_STAGES.items() if user.has_role(role)]
    if user.has_role("handler"):
        conditions.append(and_(Case.stage.in_(HANDLER_STAGES), Case.handler_id == user.id))
    if user.has_role("office_head"):
        conditions.append(and_(Case.stage.in_(OPEN_STAGES), Case.extension_working_days == 0))
    if not conditions:
        return []
    return list(session.scalars(select(Case).where(
        Case.agency_id == user.agency_id, Case.stage.in_(OPEN_STAGES), Case.due_on.is_not(None),
        Case.clock_paused.is_(False), Case.due_on <= due_soon_limit(today), or_(*conditions))
        .order_by(Case.due_on, Case.id)))


def compose_digest(user: User, cases: list[Case], today, settings) -> notifications.Composed:
    from engine.rules.calendar import default_calendar

    calendar = default_calendar()
    overdue, soon = [], []
    for case in cases:
        status = due_status(calendar, case.due_on, today)
        line = (f"{case.reg_no}（{notifications.stage_label(case.stage)}）答复期限 {case.due_on.isoformat()}"
                + ("，已逾期" if status.kind == "overdue" else f"，还剩 {status.working_days_left} 个工作日"))
        (overdue if status.kind == "overdue" else soon).append((line, notifications.case_url(settings, case.id)))
    subject = f"每日待办提醒（{today.isoformat()}）：逾期 {len(overdue)} 件，3 个工作日内到期 {len(soon)} 件"
    parts, html_parts = [f"{user.display_name}：", f"截至 {today.isoformat()}，您的待办中："], []
    for title, rows in (("已逾期", overdue), ("3 个工作日内到期", soon)):
        if rows:
            parts.append(f"{title}（{len(rows)} 件）：\n" + "\n".join(f"- {line}  {link}" for line, link in rows))
            items = "".join(f'<li><a href="{_esc(link)}">{_esc(line)}</a></li>' for line, link in rows)
            html_parts.append(f"<h3>{_esc(title)}（{len(rows)} 件）</h3><ul>{items}</ul>")
    unsubscribe = notifications.unsubscribe_url(settings, user.id)
    text = "\n\n".join([*parts, f"不再接收每日待办提醒：{unsubscribe}", notifications.FOOTER]) + "\n"
    html = notifications._html(parts[:2], f"{settings.public_url}/", "打开工作台",
                               "", extra="".join(html_parts)
                               + f'<p><a href="{_esc(unsubscribe)}">不再接收每日待办提醒</a></p>')
    return notifications.Composed(subject, text, html)


def _esc(text: str) -> str:
    from html import escape

    return escape(text, quote=True)
