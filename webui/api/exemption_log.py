"""The exemption log across cases (DESIGN §4): every withheld part's record, by ground, department and period,
so over-use of a ground can be watched (以公开为常态、不公开为例外, 条例13)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select

from engine.models import Case, CaseItem, Department, ExemptionRecord
from webui.api import context, endpoint, present
from webui.api import schemas as s
from webui.api.cases import respond
from webui.api.openapi import Operation
from webui.localtime import SHANGHAI


def _start_of(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI).astimezone(UTC)


@endpoint("/exemptions", Operation(
    "GET", "/exemptions", "exemption_log", "不予公开理由记录台账", "监督", query=s.ExemptionLogQuery,
    ok_model=s.ExemptionLogOut, errors=(400, 401, 429),
    description="本机关全部申请的不予公开（含部分公开中不公开部分、信息不存在的检索记录）理由记录，可按理由、承办部门和"
                "记录日期筛选，并给出各理由的数量。默认只含现行版本。"))
def exemption_log():
    q = context.query_args(s.ExemptionLogQuery)
    session, user = context.session(), context.actor()
    conditions = [Case.agency_id == user.agency_id]
    if not q.include_superseded:
        conditions.append(ExemptionRecord.current.is_(True))
    if q.ground:
        conditions.append(ExemptionRecord.ground == q.ground)
    if q.department_id:
        conditions.append(ExemptionRecord.department_id == q.department_id)
    if q.review_state:
        conditions.append(ExemptionRecord.review_state == q.review_state)
    if q.created_from:
        conditions.append(ExemptionRecord.created_at >= _start_of(q.created_from))
    if q.created_to:
        conditions.append(ExemptionRecord.created_at < _start_of(q.created_to + timedelta(days=1)))
    base = select(ExemptionRecord).join(Case, ExemptionRecord.case_id == Case.id).where(*conditions)
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    by_ground = dict(session.execute(
        select(ExemptionRecord.ground, func.count()).join(Case, ExemptionRecord.case_id == Case.id)
        .where(*conditions).group_by(ExemptionRecord.ground)).all())
    rows = session.execute(
        select(ExemptionRecord, Case.reg_no, CaseItem.seq, Department.name)
        .join(Case, ExemptionRecord.case_id == Case.id)
        .join(CaseItem, ExemptionRecord.item_id == CaseItem.id)
        .outerjoin(Department, ExemptionRecord.department_id == Department.id)
        .where(*conditions)
        .order_by(ExemptionRecord.id.desc())
        .limit(q.per_page).offset((q.page - 1) * q.per_page)).all()
    items = [s.ExemptionLogEntryOut(**present.exemption_record(record), reg_no=reg_no, item_seq=seq,
                                    department_name=dept) for record, reg_no, seq, dept in rows]
    return respond(s.ExemptionLogOut(items=items, page=q.page, per_page=q.per_page, total=total,
                                     by_ground={k: int(v) for k, v in sorted(by_ground.items())}))
