"""The exemption log across cases (DESIGN §4): every withheld part's record, by ground, department and period,
so over-use of a ground can be watched (以公开为常态、不公开为例外, 条例13)."""

from __future__ import annotations

from engine.services.exemption_log import ExemptionLogFilter, ensure_may_read_log
from engine.services.exemption_log import exemption_log as query_exemption_log
from webui.api import context, endpoint, present
from webui.api import schemas as s
from webui.api.cases import respond
from webui.api.openapi import Operation


@endpoint("/exemptions", Operation(
    "GET", "/exemptions", "exemption_log", "不予公开理由记录台账", "监督", query=s.ExemptionLogQuery,
    ok_model=s.ExemptionLogOut, errors=(400, 401, 403, 429),
    description="本机关全部申请的不予公开（含部分公开中不公开部分、信息不存在的检索记录）理由记录，可按理由、承办部门和"
                "记录日期筛选，并给出各理由的数量。默认只含现行版本。仅法制审核人员、机构负责人和系统管理员可用（与网页相同）。"))
def exemption_log():
    session, user = context.session(), context.actor()
    ensure_may_read_log(user)
    q = context.query_args(s.ExemptionLogQuery)
    flt = ExemptionLogFilter(ground=q.ground, department_id=q.department_id, review_state=q.review_state,
                             created_from=q.created_from, created_to=q.created_to,
                             include_superseded=q.include_superseded)
    found = query_exemption_log(session, user.agency_id, flt, page=q.page, per_page=q.per_page)
    total, by_ground, rows = found.total, found.by_ground, found.rows
    items = [s.ExemptionLogEntryOut(**present.exemption_record(record), reg_no=reg_no, item_seq=seq,
                                    department_name=dept) for record, reg_no, seq, dept in rows]
    return respond(s.ExemptionLogOut(items=items, page=q.page, per_page=q.per_page, total=total,
                                     by_ground=by_ground))
