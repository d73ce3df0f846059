"""条例第三十五条: a request whose number or frequency clearly exceeds a reasonable range.

The agency first asks the applicant to state reasons (说明理由告知书, with a period that runs from the applicant's
receipt of it); the answer, or the lapse of that period, is recorded. Only then may it refuse to process the
request (不予处理, outcome EXCESSIVE: decisions refuse it otherwise), or — the reasons being reasonable but the
statutory period impossible to keep — fix a later, reasonable deadline and tell the applicant (延迟答复告知书),
which the clock, the lists and the due-date explanation honour.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from engine.errors import InvalidInput, RuleViolation
from engine.persistence.models import User
from engine.rules.vocabulary import REASON_ANSWERS
from engine.rules.workflow import advance, authorize
from engine.services import letter_data
from engine.services.common import (
    ActionResult,
    agency_of,
    finish_action,
    load_case,
    not_before,
    not_future,
    require_text,
    use_case,
)
from engine.services.issuing import LetterRenderer, issue_letter
from engine.services.notice_periods import lapse_problem, latest_letter

DEFAULT_REASON_PERIOD_WORKING_DAYS = 10
MAX_DELAY_CALENDAR_DAYS = 366


@use_case
def request_reasons(session: Session, case_id: int, *, volume_description: str,
                    period_working_days: int = DEFAULT_REASON_PERIOD_WORKING_DAYS, renderer: LetterRenderer,
                    actor: User, today: date, version: int | None = None) -> ActionResult:
    """要求说明理由: states the number and frequency that exceed a reasonable range and a period, counted from the
    applicant's receipt of the 说明理由告知书, to state the reasons."""
    case = load_case(session, case_id, actor, version=version)
    authorize(case, "request_reasons", actor)
    if case.reason_requested_on is not None:
        raise RuleViolation("本申请已经要求过说明理由（条例第三十五条）")
    volume = require_text(volume_description, "申请数量、频次明显超过合理范围的具体情况")
    if not 1 <= period_working_days <= 30:
        raise InvalidInput("说明理由的期限应为 1 至 30 个工作日（自申请人收到告知书之日起计算）")
    case.reason_requested_on = today
    case.reason_period_working_days = period_working_days
    case.reason_due_on = None
    advance(case, "request_reasons")
    finish_action(session, case, "request_reasons", actor, case.stage,
                  {"period_working_days": period_working_days}, volume)
    agency = agency_of(session, case)
    letter = issue_letter(session, case, "reason_request",
                          lambda n: letter_data.reason_request_data(case, agency, volume_description=volume,
                                                                    doc_number=n, issued_on=today),
                          renderer=renderer, actor=actor, today=today)
    return ActionResult(case, letters=[letter])


@use_case
def record_reasons(session: Session, case_id: int, *, answer: str, answered_on: date, summary: str = "",
                   actor: User, today: date, version: int | None = None) -> ActionResult:
    """The applicant's reasons (ANSWERED, with what was said), or the lapse of the period (LAPSED: only once the
    period counted from the delivery of the 说明理由告知书 has run)."""
    case = load_case(session, case_id, actor, version=version)
    authorize(case, "record_reasons", actor)
    if case.reason_requested_on is None:
        raise RuleViolation("本申请尚未要求说明理由（条例第三十五条）")
    if case.reason_answer:
        raise RuleViolation("说明理由情况已经登记")
    if answer not in REASON_ANSWERS:
        raise InvalidInput("说明理由情况无效")
    not_future(answered_on, today, "日期")
    not_before(answered_on, case.reason_requested_on, "日期", "要求说明理由日期")
    if answer == "ANSWERED":
        summary = require_text(summary, "申请人说明的理由")
    else:
        problem = lapse_problem(session, latest_letter(session, case, "reason_request"), case.reason_due_on,
                                answered_on, "说明理由")
        if problem:
            raise RuleViolation(problem)
    case.reason_answer = answer
    case.reason_answered_on = answered_on
    case.reason_answer_summary = summary.strip()
    advance(case, "record_reasons")
    finish_action(session, case, "record_reasons", actor, case.stage,
                  {"answer": answer, "answered_on": answered_on}, summary.strip())
    return ActionResult(case)


@use_case
def set_delayed_reply(session: Session, case_id: int, *, new_due_on: date, reason: str, renderer: LetterRenderer,
                      actor: User, today: date, version: int | None = None) -> ActionResult:
    """确定延迟答复的合理期限 (条例35): the reasons were found reasonable, but the statutory period cannot be kept;
    the later deadline replaces the computed one, and the applicant gets the 延迟答复告知书."""
    case = load_case(session, case_id, actor, version=version)
    authorize(case, "set_delayed_reply", actor)
    if case.reason_answer != "ANSWERED":
        raise RuleViolation("只有申请人已说明理由、且理由合理时，才能确定延迟答复的期限（条例第三十五条）")
    if case.delay_due_on is not None:
        raise RuleViolation("本申请已经确定过延迟答复的期限")
    reason = require_text(reason, "延迟答复的理由（说明理由合理但无法按期答复的情况）")
    if case.due_on is None or new_due_on <= case.due_on:
        raise RuleViolation(f"延迟答复的期限应晚于现行答复期限（{case.due_on}）")
    if (new_due_on - today).days > MAX_DELAY_CALENDAR_DAYS:
        raise RuleViolation("延迟答复的期限应当合理，不宜超过一年")
    before_due = case.due_on
    case.delay_due_on = new_due_on
    case.delay_reason = reason
    advance(case, "set_delayed_reply")
    finish_action(session, case, "set_delayed_reply", actor, case.stage,
                  {"original_due_on": before_due, "delay_due_on": new_due_on}, reason)
    agency = agency_of(session, case)
    letter = issue_letter(session, case, "delay_notice",
                          lambda n: letter_data.delay_notice_data(case, agency, doc_number=n, issued_on=today),
                          renderer=renderer, actor=actor, today=today)
    return ActionResult(case, letters=[letter])


def excessive_problem(case) -> str | None:
    """Why 不予处理 under 条例35 (EXCESSIVE) cannot be decided yet, or None."""
    if case.reason_requested_on is None:
        return "按条例第三十五条不予处理前，须先要求申请人说明理由（出具说明理由告知书）"
    if not case.reason_answer:
        return "须先登记申请人说明理由的情况（已说明理由，或送达后逾期未说明）"
    return None
