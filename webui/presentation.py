"""How values read on the pages: labels, Beijing time, working days left with a colour, navigation."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, url_for
from flask_login import current_user

from engine.rules import clocks
from engine.rules.calendar import default_calendar
from engine.rules.case_clock import REPLY_WORKING_DAYS
from engine.rules.outcomes import APPLICANT_TYPES, OUTCOMES
from engine.rules.personal_data import mask_id_number, mask_phone
from engine.rules.search import request_summary
from engine.rules.vocabulary import (
    CHALLENGE_LABELS,
    CHANNEL_LABELS,
    CONFIDENTIALITY_LABELS,
    DELIVERY_LABELS,
    LETTER_LABELS,
    REASON_ANSWER_LABELS,
    RETENTION_LABELS,
    ROLE_LABELS,
)
from engine.rules.workflow import ACTIONS, FINISHED_STAGES, OPEN_STAGES, STAGE_LABELS
from webui.localtime import in_shanghai, today
from webui.row_urls import row_url

EVENT_LABELS = {
    **{name: action.label for name, action in ACTIONS.items()},
    "register_request": "登记申请",
    "issue_letter": "出具文书",
    "render_letter": "生成文书 PDF",
    "record_exemption": "记录不予公开理由",
    "supersede_letter": "更正文书",
    "record_review_or_litigation": "登记复议、诉讼",
    "add_upload": "上传附件",
    "close_lapsed_fee": "逾期未缴费，不再处理",
}
UPLOAD_KINDS = {"application": "申请材料", "supplement": "补正材料", "delivery_proof": "送达回证", "attachment": "其他附件",
                "consultation": "征求意见材料"}
CONSULTATION_KIND_LABELS = {"THIRD_PARTY": "第三方（条例第三十二条）", "AGENCY": "共同制作机关（条例第三十四条）"}
CONSULTATION_ANSWER_LABELS = {"CONSENT": "同意公开", "OBJECTION": "不同意公开", "NO_ANSWER": "逾期未提出意见"}
REVIEW_STATE_LABELS = {"pending": "待审核", "confirmed": "已确认", "rejected": "已退回"}
DUE_LABELS = {"on_time": "正常", "due_soon": "即将到期", "overdue": "已超期"}


def days_left(due_on: date | None, stage: str, on: date | None = None) -> dict | None:
    """Working days left to `due_on` and the colour class for it; None when no clock runs."""
    if due_on is None or stage not in OPEN_STAGES:
        return None
    on = on or today()
    status = clocks.due_status(default_calendar(), due_on, on)
    left = status.working_days_left
    if status.kind == "overdue":
        text = f"超期 {abs(left)} 个工作日" if left else "已超期"
    elif left == 0:
        text = "今日到期"
    else:
        text = f"剩 {left} 个工作日"
    return {"kind": status.kind, "left": left, "text": text, "css": f"due-{status.kind.replace('_', '-')}"}


def awaiting_confirmation(case, on: date | None = None) -> dict:
    """A request not yet confirmed (条例31(二)(三)) has no reply clock yet, but it is at risk: the days it has waited
    since it arrived, and the due date it would have if confirmed on arrival."""
    on = on or today()
    waited = max((on - case.submitted_on).days, 0)
    due_if_arrival = default_calendar().add_working_days(case.submitted_on, REPLY_WORKING_DAYS)
    kind = "on_time" if waited == 0 else "overdue" if on > due_if_arrival else "due_soon"
    return {"days": waited, "due_if_arrival": due_if_arrival, "css": f"due-{kind.replace('_', '-')}"}


def cn_date(value: date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else "—"


def iso(value: date | None) -> str:
    return value.isoformat() if value else "—"


def local_time(moment: datetime | None) -> str:
    moment = in_shanghai(moment)
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "—"


def navigation() -> list[tuple[str, str, str]]:
    """(endpoint, label, url) of the menu entries this user can use."""
    if not current_user.is_authenticated:
        return []
    entries = [("dashboard.index", "工作台"), ("cases.index", "申请列表")]
    if current_user.has_role("clerk"):
        entries.append(("intake.register", "登记申请"))
    if current_user.has_any_role("archivist", "admin"):
        entries.append(("archive.queue", "归档"))
    if current_user.has_any_role("legal_reviewer", "office_head", "admin"):
        entries.append(("legal_review.exemption_log_page", "理由台账"))
    entries.append(("reports.index", "统计报表"))
    entries.append(("signatures.verify_upload", "验证签名"))
    if current_user.has_role("admin"):
        entries.append(("admin.index", "系统管理"))
    from flask import current_app

    shown = []
    for endpoint, label in entries:
        if endpoint in current_app.view_functions:
            shown.append((endpoint, label, url_for(endpoint)))
    return shown


def has_endpoint(endpoint: str) -> bool:
    """Whether a blueprint built elsewhere (reports, archive export) is registered, to show its links."""
    from flask import current_app

    return endpoint in current_app.view_functions


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(cn_date=cn_date, iso=iso, local_time=local_time, mask_id=mask_id_number,
                                 mask_phone=mask_phone)
    app.jinja_env.globals.update(
        STAGE_LABELS=STAGE_LABELS, CHANNEL_LABELS=CHANNEL_LABELS, APPLICANT_TYPES=APPLICANT_TYPES,
        OUTCOMES=OUTCOMES, ROLE_LABELS=ROLE_LABELS, DELIVERY_LABELS=DELIVERY_LABELS,
        CONFIDENTIALITY_LABELS=CONFIDENTIALITY_LABELS, CHALLENGE_LABELS=CHALLENGE_LABELS,
        RETENTION_LABELS=RETENTION_LABELS, EVENT_LABELS=EVENT_LABELS, LETTER_LABELS=LETTER_LABELS,
        UPLOAD_KINDS=UPLOAD_KINDS, CONSULTATION_KIND_LABELS=CONSULTATION_KIND_LABELS,
        CONSULTATION_ANSWER_LABELS=CONSULTATION_ANSWER_LABELS, REVIEW_STATE_LABELS=REVIEW_STATE_LABELS,
        REASON_ANSWER_LABELS=REASON_ANSWER_LABELS,
        DUE_LABELS=DUE_LABELS, FINISHED_STAGES=FINISHED_STAGES, days_left=days_left, awaiting_confirmation=awaiting_confirmation, navigation=navigation,
        has_endpoint=has_endpoint, request_summary=request_summary,
        business_today=today, row_url=row_url,
    )
