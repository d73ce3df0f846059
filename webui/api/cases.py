"""Register, read and list cases; download a frozen letter (条例29、31、33; DESIGN §2 frozen letters)."""

from __future__ import annotations

import base64

from flask import Response, jsonify, url_for
from sqlalchemy import func, select

from engine import services
from engine.errors import NotFound
from engine.persistence.limits import MAX_ID
from engine.persistence.models import Agency, Case
from engine.services import ApplicantForm, RegistrationForm, downloads
from engine.services.case_list import CaseCriteria, cases_matching
from webui.api import context, endpoint, present
from webui.api import schemas as s
from webui.api.openapi import Operation
from webui.downloads import content_disposition, letter_filename

TAG = "申请"


def load(case_id: int, version: int | None = None) -> Case:
    """The case if it is the token user's agency's (another agency's case, or an absurd id, is not found)."""
    if not 1 <= case_id <= MAX_ID:
        raise NotFound("没有找到该申请")
    return services.load_case(context.session(), case_id, context.actor(), version=version)


def respond(model: s.Output, status: int = 200, headers: dict | None = None):
    response = jsonify(model.model_dump(mode="json"))
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


@endpoint("/cases", Operation(
    "POST", "/cases", "register_request", "登记一件申请", TAG, body=s.RegisterIn, ok_status=201,
    ok_model=s.RegisteredOut,
    description="政务服务网或网站表单提交的申请（channel 默认 online）。网络申请未给 confirmed_on 时，以系统确认之日为"
                "收到申请之日，机关设置为人工确认的除外（条例第三十一条第（三）项、指导案例26号）。需要登记员角色。"))
def register_request():
    body = context.json_body(s.RegisterIn)
    session, user, today = context.session(), context.actor(), context.today()
    applicant = ApplicantForm(**body.applicant.model_dump())
    # Read-only, so looked up before the write lock is taken (the new case cannot be among them yet).
    duplicates = services.find_possible_duplicates(session, user.agency_id, applicant,
                                                   [item.description for item in body.items])
    form = RegistrationForm(
        applicant=applicant, channel=body.channel, submitted_on=body.submitted_on,
        items=[(item.description, item.topic) for item in body.items], signed_for_on=body.signed_for_on,
        confirmed_on=body.confirmed_on, requested_form=body.requested_form,
        requested_delivery=body.requested_delivery, purpose=body.purpose)
    result = services.register_request(session, form, renderer=context.renderer(session.get(Agency, user.agency_id)),
                                       actor=user, today=today)
    case = result.case
    out = s.RegisteredOut(case=present.case_out(session, case, user, today), query_code=result.query_code,
                          possible_duplicates=[s.DuplicateOut(**d) for d in duplicates])
    return respond(out, 201, {"Location": url_for("api.get_case", case_id=case.id)})


@endpoint("/cases/<int:case_id>", Operation(
    "GET", "/cases/{case_id}", "get_case", "查看一件申请", TAG, path_params=("case_id",), ok_model=s.CaseOut,
    errors=(400, 401, 404, 429),
    description="阶段、答复期限及其计算说明（不计入的日子）、期限状态，以及令牌用户现在可以执行的操作。"))
def get_case(case_id: int):
    case = load(case_id)
    return respond(present.case_out(context.session(), case, context.actor(), context.today()))


@endpoint("/cases", Operation(
    "GET", "/cases", "list_cases", "查找申请", TAG, query=s.CaseListQuery, ok_model=s.CaseListOut,
    errors=(400, 401, 429),
    description="按阶段、期限状态、收到日期、申请人类型、办理结果和关键词筛选，分页返回，最新登记的在前。"))
def list_cases():
    q = context.query_args(s.CaseListQuery)
    session, user, today = context.session(), context.actor(), context.today()
    criteria = CaseCriteria(stage=q.stage or "", due=q.due_status or "", received_from=q.received_from,
                            received_to=q.received_to, applicant_kind=q.applicant_kind or "",
                            outcome=q.outcome or "", q=(q.q or "").strip())
    stmt = cases_matching(user.agency_id, criteria, today, session.get_bind().dialect.name)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = session.scalars(stmt.order_by(Case.id.desc()).limit(q.per_page).offset((q.page - 1) * q.per_page)).all()
    return respond(s.CaseListOut(items=[present.case_summary(c, today) for c in rows], page=q.page,
                                 per_page=q.per_page, total=total))


@endpoint("/cases/<int:case_id>/letters/<int:letter_id>.pdf", Operation(
    "GET", "/cases/{case_id}/letters/{letter_id}.pdf", "download_letter", "下载已签发（冻结）的文书", TAG,
    path_params=("case_id", "letter_id"), ok_media="application/pdf", errors=(400, 401, 404, 429),
    ok_headers={"X-Content-SHA256": {"description": "PDF 的 SHA-256（十六进制），与签发时冻结的一致",
                                     "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}},
    description="返回签发时冻结的 PDF 原件（从不重新生成），响应头给出其 SHA-256。"))
def letter_pdf(case_id: int, letter_id: int):
    case = load(case_id)
    letter = downloads.letter_for_download(context.session(), letter_id, context.actor(), case_id=case.id)
    digest = base64.b64encode(bytes.fromhex(letter.sha256)).decode()
    return Response(letter.pdf, mimetype="application/pdf", headers={
        "X-Content-SHA256": letter.sha256,
        "Repr-Digest": f"sha-256=:{digest}:",
        "ETag": f'"{letter.sha256}"',
        "Content-Disposition": content_disposition(letter_filename(letter, case.reg_no),
                                                   fallback=f"letter-{letter.id}.pdf"),
    })
