"""工作台: my tasks by stage (by role), cases due within 3 working days, overdue cases, counts by stage."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import and_, func, or_, select

from engine.persistence.models import Case
from engine.rules.workflow import OPEN_STAGES, STAGE_LABELS, stages_allowing
from engine.services.case_list import due_conditions, due_soon_limit
from webui import db
from webui.localtime import today

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


def task_condition(user, on):
    """The SQL condition for "my tasks", or None when the user's roles have none."""
    conditions = [Case.stage.in_(stages) for role, stages in ROLE_STAGES.items() if user.has_role(role)]
    if user.has_role("handler"):
        conditions.append(and_(Case.stage.in_(HANDLER_STAGES), Case.handler_id == user.id))
    if user.has_role("office_head"):
        conditions.append(and_(Case.stage.in_(EXTENDABLE_STAGES), Case.extension_working_days == 0,
                               Case.due_on >= on, Case.due_on <= due_soon_limit(on)))
    return or_(*conditions) if conditions else None


@bp.get("/")
def index():
    session = db.get_session()
    on = today()
    agency_id = current_user.agency_id
    soon = due_soon_limit(on)
    counts = dict(session.execute(select(Case.stage, func.count()).where(Case.agency_id == agency_id)
                                  .group_by(Case.stage)).all())
    condition = task_condition(current_user, on)
    tasks = []
    if condition is not None:
        tasks = session.scalars(select(Case).where(Case.agency_id == agency_id, condition)
                                .order_by(func.coalesce(Case.due_on, Case.supplement_due_on).asc().nulls_last(),
                                          Case.id).limit(LIST_LIMIT)).all()
    mine = Case.agency_id == agency_id
    due_soon_where, overdue_where = due_conditions("due_soon", on), due_conditions("overdue", on)
    due_soon = session.scalars(select(Case).where(mine, *due_soon_where)
                               .order_by(Case.due_on, Case.id).limit(LIST_LIMIT)).all()
    overdue = session.scalars(select(Case).where(mine, *overdue_where)
                              .order_by(Case.due_on, Case.id).limit(LIST_LIMIT)).all()
    # Both counts are of open cases: saying so lets the database read only those (the partial index), not all.
    totals = session.execute(select(func.count().filter(and_(*overdue_where)),
                                    func.count().filter(and_(*due_soon_where)))
                             .where(mine, Case.stage.in_(OPEN_STAGES))).one()
    task_total = session.scalar(select(func.count()).where(Case.agency_id == agency_id, condition)) \
        if condition is not None else 0
    # 条例31(二)(三): plain letters, faxes and manually confirmed online requests wait for the clerk's confirmation.
    unconfirmed = session.scalars(select(Case).where(mine, Case.stage == "received")
                                  .order_by(Case.submitted_on, Case.id).limit(LIST_LIMIT)).all() \
        if current_user.has_role("clerk") else []
    return render_template("dashboard/index.html", tasks=tasks, task_total=task_total, unconfirmed=unconfirmed,
                           due_soon=due_soon,
                           overdue=overdue, overdue_total=totals[0], due_soon_total=totals[1], counts=counts,
                           stage_order=list(STAGE_LABELS), today=on, soon=soon)
