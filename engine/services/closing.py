"""Closing without a reply (年报(六)): lapsed supplement (条例30), lapsed fee (109号), withdrawal — with the
终止办理告知书."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from engine.errors import InvalidInput, RuleViolation
from engine.persistence.models import Case, User
from engine.rules.workflow import advance, authorize
from engine.services import letter_data
from engine.services.common import ActionResult, agency_of, finish_action, load_case, require_text, use_case
from engine.services.issuing import LetterRenderer, issue_letter, latest_letter_number
from engine.services.notice_periods import lapse_problem, latest_letter
from engine.services.period_lock import ensure_period_open
from engine.services.uploads import UploadedFile, attach

# The notice whose period lapsed, quoted by number in the termination notice.
_LAPSED_NOTICE = {"LAPSED_SUPPLEMENT": "supplement_notice", "LAPSED_FEE": "fee_notice"}
LAPSE_ACTIONS = ("close_lapsed_supplement", "close_lapsed_fee")


def _close(session: Session, case: Case, action: str, outcome: str, actor, today: date, reason: str) -> None:
    ensure_period_open(session, case.agency_id, today, actor=actor)
    before = case.stage
    advance(case, action)
    case.report_outcome = outcome
    case.finished_on = today
    case.closed_reason = reason
    for item in case.items:
        item.outcome = outcome
    finish_action(session, case, action, actor, before, {"report_outcome": outcome, "finished_on": today}, reason)


def _termination_notice(session: Session, case: Case, *, renderer: LetterRenderer, actor, today: date):
    agency = agency_of(session, case)
    earlier = (latest_letter_number(session, case, _LAPSED_NOTICE[case.report_outcome])
               if case.report_outcome in _LAPSED_NOTICE else None)
    return issue_letter(session, case, "termination_notice",
                        lambda n: letter_data.termination_notice_data(case, agency, doc_number=n, issued_on=today,
                                                                      earlier_notice_number=earlier),
                        renderer=renderer, actor=actor, today=today)


@use_case
def close_lapsed(session: Session, case_id: int, *, action: str | None = None, renderer: LetterRenderer, actor: User,
                 today: date, version: int | None = None) -> ActionResult:
    """逾期不补正 (条例30) or 逾期未缴费 (109号): the case is closed, not processed further (年报(六)1/2), and the
    applicant gets the 终止办理告知书 naming the notice whose period ran out. Without `action` the case's stage
    says which lapse it is."""
    case = load_case(session, case_id, actor, version=version)
    if action not in (None, *LAPSE_ACTIONS):
        raise InvalidInput("逾期结案的类型无效")
    action = action or ("close_lapsed_fee" if case.stage == "awaiting_fee" else "close_lapsed_supplement")
    authorize(case, action, actor)
    if action == "close_lapsed_supplement":
        problem = lapse_problem(session, latest_letter(session, case, "supplement_notice"), case.supplement_due_on,
                                today, "补正")
        if problem:
            raise RuleViolation(problem)
        _close(session, case, action, "LAPSED_SUPPLEMENT", actor, today,
               "申请人无正当理由逾期不补正，视为放弃申请（条例第三十条）")
    else:
        problem = lapse_problem(session, latest_letter(session, case, "fee_notice"), case.fees[-1].pay_by_on, today,
                                "缴费")
        if problem:
            raise RuleViolation(problem)
        _close(session, case, action, "LAPSED_FEE", actor, today,
               "申请人逾期未缴纳信息处理费，视为放弃申请（国办函〔2020〕109号）")
    return ActionResult(case, letters=[_termination_notice(session, case, renderer=renderer, actor=actor,
                                                           today=today)])


@use_case
def withdraw(session: Session, case_id: int, *, reason: str, issue_notice: bool = True,
             file: UploadedFile | None = None, renderer: LetterRenderer, actor: User, today: date,
             version: int | None = None) -> ActionResult:
    """申请人撤回: closed without a reply letter, counted as 其他 (年报(六)3); the 终止办理告知书 confirms it to the
    applicant unless the clerk says none is needed (e.g. withdrawn in person with a written acknowledgement)."""
    case = load_case(session, case_id, actor, version=version)
    authorize(case, "withdraw", actor)
    reason = require_text(reason, "撤回说明（如申请人书面撤回的日期和方式）")
    # A request withdrawn before its receipt was ever confirmed keeps no receipt date: the annual report
    # counts only confirmed requests (DESIGN §6).
    _close(session, case, "withdraw", "OTHER", actor, today, reason)
    attach(session, case, file, kind="attachment", actor=actor)
    letters = [_termination_notice(session, case, renderer=renderer, actor=actor, today=today)] if issue_notice else []
    return ActionResult(case, letters=letters)
