"""The applicant's status lookup (no token): registration number + 查询码 from the receipt reveal the stage,
the receipt, due and finished dates — nothing else. Rate-limited per client address (`webui.limits`)."""

from __future__ import annotations

from engine.errors import NotFound
from engine.rules.workflow import STAGE_LABELS
from engine.services.portal import find_case_by_query_code
from webui.api import context, endpoint, present
from webui.api import schemas as s
from webui.api.cases import respond
from webui.api.openapi import Operation

NOT_FOUND = "登记编号或查询码不正确（请核对登记回执）"


@endpoint("/public/status", Operation(
    "POST", "/public/status", "status_lookup", "申请人查询办理进度（无需令牌）", "申请人", body=s.StatusLookupIn,
    ok_model=s.StatusOut, errors=(400, 404, 413, 415, 429), public=True,
    description="凭登记回执上的登记编号和查询码查询：只返回阶段、收到日期、答复期限和办结日期。"
                "每个来源地址每分钟限 10 次（可配置）。"))
def status_lookup():
    body = context.json_body(s.StatusLookupIn)
    # The 登记编号 typed with any brackets; the same answer whether the number or the code is wrong (constant time).
    found = find_case_by_query_code(context.session(), body.reg_no, body.query_code, agency_code=body.agency or None)
    if found is None:
        raise NotFound(NOT_FOUND)
    due_on = found.due_on if found.stage in present.CLOCK_STAGES else None
    return respond(s.StatusOut(reg_no=found.reg_no, stage_label=STAGE_LABELS[found.stage],
                               received_on=found.received_on, due_on=due_on, finished_on=found.finished_on))
