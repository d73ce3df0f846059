"""工作台: my tasks with the next step for my role (by urgency), letters waiting for delivery, cases due within 3
working days, overdue cases, counts by stage."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import and_, func, or_, select

from engine.persistence.models import Agency, Case, LegalChallenge
from engine.rules.calendar import default_calendar
from engine.rules.next_step import by_urgency, next_step, supplement_window_end
from engine.rules.vocabulary import STAGES
from engine.rules.workflow import FINISHED_STAGES, OPEN_STAGES, STAGE_LABELS, stages_allowing
from engine.services.archiving import retention_for
from engine.services.case_list import due_conditions, due_soon_limit
from engine.services.next_steps import case_facts, letters_to_deliver
from webui import db
from webui.handling import ACTIONS as CASE_ACTIONS
from webui.kept import kept
from webui.localtime import today
from webui.row_urls import row_url

bp = Blueprint("dashboard", __name__)
LIST_LIMIT = 50
# The stages each role works on (office heads: open cases due soon, to approve an extension in time).
ROLE_STAGES = {
    "clerk": ("received", "registered", "awaiting_supplement", "signed"),
    "legal_reviewer": ("in_review",),
    "archivist": ("replied", "closed"),
}
HANDLER_STAGES = ("in_handling", "consulting", "drafting")
EXTENDABLE_STAGES = tuple(stages_allowing("extend"))
# The columns of 我的待办 each role needs (a user with several roles sees the union, in this order).
TASK_COLUMNS = ("reg_no", "applicant", "summary", "stage", "next", "due_on", "left", "finished_on", "retention",
                "archive_no")
ROLE_COLUMNS = {
    "clerk": {"reg_no", "applicant", "stage", "next", "due_on", "left"},
    "handler": {"reg_no", "applicant", "summary", "stage", "next", "due_on", "left"},
    "legal_reviewer": {"reg_no", "summary", "stage", "next", "due_on", "left"},
    "office_head": {"reg_no", "summary", "stage", "next", "due_on", "left"},
    "archivist": {"reg_no", "applicant", "stage", "next", "finished_on", "retention", "archive_no"},
}
# Workflow actions whose form lives elsewhere than /cases/<id>/do/<action> (or under another name there).
ACTION_PAGES = {"close_lapsed_supplement": "close_lapsed", "close_lapsed_fee": "close_lapsed"}


def step_url(case_id: int, step) -> str:
    """Where the next step is done: its form when it has one on the case's action pages, else the case page."""
    name = ACTION_PAGES.get(step.action, step.action) if step is not None else None
    if name in CASE_ACTIONS:
        extra = {"letter_id": step.letter_id} if step.letter_id else {}
        return row_url("handling.act", case_id=case_id, name=name, **extra)
    return row_url("cases.show", case_id=case_id)


def task_columns(roles) -> list[str]:
    """The 我的待办 columns for a user with `roles`, in page order."""
    wanted = set().union(*(ROLE_COLUMNS.get(role, set()) for role in roles)) or ROLE_COLUMNS["clerk"]
    return [column for column in TASK_COLUMNS if column in wanted]


def task_condition(user, on):
    """The SQL condition for "my tasks", or None when the user's roles have none."""
    conditions = [Case.stage.in_(stages) for role, stages in ROLE_STAGES.items() if user.has_role(role)]
    if user.has_role("handler"):
        conditions.append(and_(Case.stage.in_(HANDLER_STAGES), Case.handler_id == user.id))
    if user.has_role("office_head"):
        conditions.append(and_(Case.stage.in_(EXTENDABLE_STAGES), Case.extension_working_days == 0,
                               Case.due_on >= on, Case.due_on <= due_soon_limit(on)))
    return or_(*conditions) if conditions else None


def _cases(*where, order_by, limit: int = LIST_LIMIT) -> list[Case]:
    """The first `limit` cases in `order_by` order, chosen before their applicants are joined in: joined into the
    ordered query, the database would hash every applicant of every year to order a few hundred open cases."""
    first = select(Case.id).where(*where).order_by(*order_by).limit(limit)
    return list(db.get_session().scalars(select(Case).where(Case.id.in_(first.scalar_subquery()))
                                         .order_by(*order_by)).all())


# The finished stages' counts of each agency (nearly all of its history: counting them reads every row), kept by
# database and agency while the agency's audit chain head stays the same (webui.kept).
_finished_counts: dict[tuple[str, int], tuple] = {}
UNFINISHED_STAGES = tuple(stage for stage in STAGES if stage not in FINISHED_STAGES)


def stage_counts(session, agency_id: int) -> dict[str, int]:
    """How many of the agency's cases are in each stage: the unfinished ones counted every time (a few thousand
    rows), the finished ones again only when the agency's audit chain has moved on since they were counted."""
    def count(stages) -> dict[str, int]:
        return dict(session.execute(select(Case.stage, func.count()).where(Case.agency_id == agency_id,
                                                                          Case.stage.in_(stages))
                                    .group_by(Case.stage)).all())

    # The unfinished counts and the chain head in one statement, the head before the finished cases are counted:
    # counts stored under a head are at least as new as it.
    rows = session.execute(
        select(Agency.audit_seq, Agency.audit_head_hash, Case.stage, func.count(Case.id))
        .outerjoin(Case, and_(Case.agency_id == Agency.id, Case.stage.in_(UNFINISHED_STAGES)))
        .where(Agency.id == agency_id).group_by(Agency.audit_seq, Agency.audit_head_hash, Case.stage)).all()
    head = (rows[0][0], rows[0][1])
    unfinished = {stage: n for _, _, stage, n in rows if stage is not None}
    where = (session.get_bind().url.render_as_string(hide_password=True), agency_id)
    return unfinished | kept(_finished_counts, where, head, lambda: count(FINISHED_STAGES))


@bp.get("/")
def index():
    session = db.get_session()
    on = today()
    agency_id = current_user.agency_id
    soon = due_soon_limit(on)
    counts = stage_counts(session, agency_id)
    condition = task_condition(current_user, on)
    tasks = []
    if condition is not None:
        tasks = _cases(Case.agency_id == agency_id, condition,
                       order_by=(func.coalesce(Case.due_on, Case.supplement_due_on).asc().nulls_last(), Case.id))
    cal, roles = default_calendar(), tuple(current_user.roles)
    facts = case_facts(session, tasks)
    steps = {c.id: next_step(cal, facts[c.id], roles, on) for c in tasks}
    tasks = sorted(tasks, key=lambda c: (by_urgency(steps[c.id]), c.id))
    windows = {c.id: supplement_window_end(cal, facts[c.id]) for c in tasks if c.stage == "registered"}
    columns = task_columns(roles)
    retention = _ruled_retention(session, current_user.agency, tasks) if "retention" in columns else {}
    mine = Case.agency_id == agency_id
    due_soon_where, overdue_where = due_conditions("due_soon", on), due_conditions("overdue", on)
    due_soon = _cases(mine, *due_soon_where, order_by=(Case.due_on, Case.id))
    overdue = _cases(mine, *overdue_where, order_by=(Case.due_on, Case.id))
    # Both counts are of open cases: saying so lets the database read only those (the partial index), not all.
    totals = session.execute(select(func.count().filter(and_(*overdue_where)),
                                    func.count().filter(and_(*due_soon_where)))
                             .where(mine, Case.stage.in_(OPEN_STAGES))).one()
    task_total = session.scalar(select(func.count()).where(Case.agency_id == agency_id, condition)) \
        if condition is not None else 0
    # 条例31(二)(三): plain letters, faxes and manually confirmed online requests wait for the clerk's confirmation.
    unconfirmed = _cases(mine, Case.stage == "received", order_by=(Case.submitted_on, Case.id)) \
        if current_user.has_role("clerk") else []
    to_deliver, to_deliver_total, to_deliver_more = letters_to_deliver(session, agency_id, LIST_LIMIT) \
        if current_user.has_role("clerk") else ([], 0, False)
    return render_template("dashboard/index.html", tasks=tasks, task_total=task_total, unconfirmed=unconfirmed,
                           steps=steps, windows=windows, columns=columns, retention=retention,
                           step_url=step_url, to_deliver=to_deliver, to_deliver_total=to_deliver_total,
                           to_deliver_more=to_deliver_more,
                           due_soon=due_soon,
                           overdue=overdue, overdue_total=totals[0], due_soon_total=totals[1], counts=counts,
                           stage_order=list(STAGE_LABELS), today=on, soon=soon)


def _ruled_retention(session, agency, cases) -> dict[int, str]:
    """The retention the archiving rule gives each finished case shown (one query for the challenged ones)."""
    finished = [c.id for c in cases if c.stage in ("replied", "closed")]
    if not finished:
        return {}
    challenged = set(session.scalars(select(LegalChallenge.case_id).where(LegalChallenge.case_id.in_(finished))))
    return {c.id: retention_for(agency, c.report_outcome, challenged=c.id in challenged)
            for c in cases if c.id in finished}
