"""系统管理: users and roles, departments, agency settings (numbers, remedies bodies, seal, policies, topics),
the agency's wording of its letters, API tokens, webhooks, the audit of administration, and the holiday
calendar's coverage. Administrators only, and only for their own agency."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from engine.errors import GongkaiError, InvalidInput, NotFound
from engine.persistence.models import Agency, ApiToken, Department, User
from engine.rules.calendar import default_calendar
from engine.rules.outcomes import REVIEW_FIRST_OPTIONAL
from engine.rules.vocabulary import ROLES, TOKEN_SCOPE_LABELS, WEBHOOK_DELIVERY_STATE_LABELS
from engine.services import accounts, admin_audit, agency_admin, letter_wording, webhooks
from engine.services.agency_admin import AGENCY_TEXT_FIELDS
from letters import LETTER_TYPES, wording
from webui import db
from webui import form_values as fv
from webui.auth import requires_role
from webui.letters_adapter import WORDING_CATALOGUE, assets_for
from webui.localtime import today
from webui.refusals import discard_work, status_for

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(requires_role("admin")(lambda: None))

MAX_SEAL_BYTES = 2 * 1024 * 1024


def _agency() -> Agency:
    return db.get_session().get(Agency, current_user.agency_id)


def _user_of_agency(user_id: int) -> User:
    user = db.get_session().get(User, user_id)
    if user is None or user.agency_id != current_user.agency_id:
        abort(404)
    return user


def _refused(refusal: GongkaiError, endpoint: str, **kwargs):
    discard_work(db.get_session())
    flash(refusal.message, "error")
    return redirect(url_for(endpoint, **kwargs), 303)


@bp.get("/")
def index():
    calendar = default_calendar()
    next_year = today().year + 1
    return render_template("admin/index.html", agency=_agency(), covered_years=calendar.covered_years,
                           last_covered=calendar.last_covered, next_year=next_year,
                           next_year_missing=next_year not in calendar.covered_years,
                           calendar_version=calendar.version)


@bp.get("/users")
def users():
    session = db.get_session()
    rows = session.scalars(select(User).where(User.agency_id == current_user.agency_id).order_by(User.username)).all()
    departments = session.scalars(select(Department).where(Department.agency_id == current_user.agency_id)
                                  .order_by(Department.name)).all()
    now = datetime.now(UTC)
    locked = {u.id for u in rows if u.locked_until is not None
              and (u.locked_until if u.locked_until.tzinfo else u.locked_until.replace(tzinfo=UTC)) > now}
    return render_template("admin/users.html", rows=rows, roles=ROLES, departments=departments,
                           dept_names={d.id: d.name for d in departments}, locked=locked)


@bp.post("/users")
def create_user():
    session = db.get_session()
    try:
        department_id = fv.optional_int("department_id", "部门")
        department = session.get(Department, department_id) if department_id else None
        if department is not None and department.agency_id != current_user.agency_id:
            raise InvalidInput("请选择本机关的部门")
        user = accounts.add_user(session, _agency(), fv.text("username"), request.form.get("password", ""),
                                 [r for r in request.form.getlist("roles") if r],
                                 display_name=fv.text("display_name") or None, department=department,
                                 actor=current_user, email=fv.text("email"))
    except GongkaiError as refusal:
        return _refused(refusal, "admin.users")
    flash(f"已创建用户 {user.username}", "success")
    return redirect(url_for("admin.users"), 303)


@bp.post("/users/<int:user_id>/<operation>")
def user_operation(user_id: int, operation: str):
    if operation not in accounts.USER_OPERATIONS:
        abort(404)
    try:
        message = accounts.update_user(db.get_session(), user_id, operation, actor=current_user,
                                       password=request.form.get("password", ""),
                                       roles=request.form.getlist("roles"), email=request.form.get("email", ""),
                                       digest_enabled=request.form.get("digest_enabled") == "1")
    except NotFound:
        abort(404)
    except GongkaiError as refusal:
        return _refused(refusal, "admin.users")
    flash(message, "success")
    return redirect(url_for("admin.users"), 303)


@bp.route("/departments", methods=["GET", "POST"])
def departments():
    session = db.get_session()
    if request.method == "POST":
        name = fv.text("name")
        try:
            agency_admin.create_department(session, name, actor=current_user.row)
        except GongkaiError as refusal:
            return _refused(refusal, "admin.departments")
        flash(f"已添加部门 {name}", "success")
        return redirect(url_for("admin.departments"), 303)
    rows = session.scalars(select(Department).where(Department.agency_id == current_user.agency_id)
                           .order_by(Department.name)).all()
    return render_template("admin/departments.html", rows=rows)


@bp.route("/agency", methods=["GET", "POST"])
def agency():
    record = _agency()
    if request.method == "GET":
        return render_template("admin/agency.html", agency=record, fields=AGENCY_TEXT_FIELDS,
                               review_first_optional=REVIEW_FIRST_OPTIONAL)
    period = fv.text("supplement_period_working_days")
    form = agency_admin.AgencySettingsForm(
        texts={name: fv.text(name) for name in AGENCY_TEXT_FIELDS},
        supplement_period_working_days=int(period) if period.isdigit() else None,
        fee_pauses_clock=fv.flag("fee_pauses_clock"), online_manual_confirmation=fv.flag("online_manual_confirmation"),
        topics=fv.text("topics").splitlines(), fee_payment_method=fv.text("fee_payment_method"),
        reason_request_pauses_clock=fv.flag("reason_request_pauses_clock"),
        review_first_also=fv.texts("review_first_also"), seal_placeholder=fv.flag("seal_placeholder"),
        contact_phone=fv.text("contact_phone"), one_person_office=fv.flag("one_person_office"))
    try:
        agency_admin.update_agency_settings(db.get_session(), form, actor=current_user.row)
    except GongkaiError as refusal:
        discard_work(db.get_session())
        flash(refusal.message, "error")
        return render_template("admin/agency.html", agency=record, fields=AGENCY_TEXT_FIELDS,
                               review_first_optional=REVIEW_FIRST_OPTIONAL, values=request.form), status_for(refusal)
    flash("机关设置已保存", "success")
    return redirect(url_for("admin.agency"), 303)


@bp.post("/agency/seal")
def seal():
    """The seal image (PNG or JPEG) is kept in the database with the agency; only the letter renderer reads it."""
    file = request.files.get("seal")
    content = file.read(agency_admin.MAX_SEAL_BYTES + 1) if file else b""
    try:
        agency_admin.set_seal_image(db.get_session(), content, actor=current_user.row)
    except GongkaiError as refusal:
        discard_work(db.get_session())
        flash(refusal.message, "error")
        return redirect(url_for("admin.agency"), 303)
    flash("印章图片已更新", "success")
    return redirect(url_for("admin.agency"), 303)


@bp.get("/tokens")
def tokens():
    session = db.get_session()
    rows = session.scalars(select(ApiToken).join(ApiToken.user).where(User.agency_id == current_user.agency_id)
                           .order_by(ApiToken.id.desc())).all()
    people = session.scalars(select(User).where(User.agency_id == current_user.agency_id, User.active.is_(True))
                             .order_by(User.username)).all()
    return render_template("admin/tokens.html", rows=rows, people=people, new_token=None, scopes=TOKEN_SCOPE_LABELS)


@bp.post("/tokens")
def create_token():
    session = db.get_session()
    user = _user_of_agency(fv.optional_int("user_id", "用户") or 0)
    scope = fv.text("scope") or "full"  # absent: the old form's full token
    token = accounts.create_token(session, user, fv.text("name")[:100], scope=scope,
                                  personal_data=fv.flag("personal_data"))
    rows = session.scalars(select(ApiToken).join(ApiToken.user).where(User.agency_id == current_user.agency_id)
                           .order_by(ApiToken.id.desc())).all()
    people = session.scalars(select(User).where(User.agency_id == current_user.agency_id, User.active.is_(True))
                             .order_by(User.username)).all()
    flash("令牌已创建。它只显示这一次，请立即复制保存。", "success")
    # Rendered in the POST response (not redirected) so the token is never stored anywhere to show again.
    return render_template("admin/tokens.html", rows=rows, people=people, new_token=token, token_user=user,
                           scopes=TOKEN_SCOPE_LABELS)


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    try:
        accounts.revoke_token(db.get_session(), token_id, current_user)
    except GongkaiError as refusal:
        return _refused(refusal, "admin.tokens")
    flash("令牌已吊销", "success")
    return redirect(url_for("admin.tokens"), 303)


# 文书措辞: each letter type's free paragraphs, worded by the agency, previewed live, saved as versions.

def _wording_type(letter_type: str) -> str:
    if letter_type not in WORDING_CATALOGUE.letter_types:
        abort(404)
    return letter_type


def _posted_slots(letter_type: str) -> dict[str, str]:
    return {slot.name: request.form.get(f"slot_{slot.name}", "").strip() for slot in wording.slots(letter_type)}


def _wording_page(letter_type: str, slots: dict[str, str], *, errors: dict[str, str] | None = None,
                  status: int = 200):
    session = db.get_session()
    agency = _agency()
    active = letter_wording.active_wording(session, agency, letter_type, catalogue=WORDING_CATALOGUE)
    errors = errors if errors is not None else WORDING_CATALOGUE.check(letter_type, slots,
                                                                      agency=letter_wording.agency_fields(agency))
    preview = None if errors else WORDING_CATALOGUE.preview_blocks(letter_type, slots,
                                                                 agency=letter_wording.agency_fields(agency))
    left_out = {} if errors else WORDING_CATALOGUE.left_out(letter_type, slots,
                                                            agency=letter_wording.agency_fields(agency))
    return render_template(
        "admin/wording_edit.html", letter_type=letter_type, title=LETTER_TYPES[letter_type].title,
        slot_specs=wording.slots(letter_type), placeholders=wording.placeholders(letter_type), slots=slots,
        errors=errors, preview=preview, left_out=left_out, active=active,
        labels=WORDING_CATALOGUE.slot_labels(letter_type),
        history=letter_wording.wording_history(session, agency, letter_type, catalogue=WORDING_CATALOGUE)), status


@bp.get("/wording")
def wordings():
    session = db.get_session()
    agency = _agency()
    rows = [(letter_type, LETTER_TYPES[letter_type].title,
             letter_wording.active_wording(session, agency, letter_type, catalogue=WORDING_CATALOGUE).version,
             len(letter_wording.wording_history(session, agency, letter_type, catalogue=WORDING_CATALOGUE)))
            for letter_type in WORDING_CATALOGUE.letter_types]
    return render_template("admin/wording_index.html", rows=rows)


@bp.get("/wording/<letter_type>")
def wording_edit(letter_type: str):
    letter_type = _wording_type(letter_type)
    active = letter_wording.active_wording(db.get_session(), _agency(), letter_type, catalogue=WORDING_CATALOGUE)
    return _wording_page(letter_type, active.slots)


@bp.post("/wording/<letter_type>")
def wording_save(letter_type: str):
    """预览 re-shows the page with the posted wording; 保存 makes it a new version (activated when asked)."""
    letter_type = _wording_type(letter_type)
    slots = _posted_slots(letter_type)
    if request.form.get("action") != "save":
        return _wording_page(letter_type, slots)
    try:
        row = letter_wording.save_wording(db.get_session(), _agency(), letter_type, slots,
                                          catalogue=WORDING_CATALOGUE, actor=current_user.row,
                                          activate=fv.flag("activate"), source="管理页面")
    except GongkaiError as refusal:
        discard_work(db.get_session())
        flash(refusal.message, "error")
        errors = refusal.details if isinstance(refusal.details, dict) else {}
        return _wording_page(letter_type, slots, errors=errors, status=status_for(refusal))
    flash(f"已保存第{row.version}版措辞" + ("并启用" if row.active else "（尚未启用）"), "success")
    return redirect(url_for("admin.wording_edit", letter_type=letter_type), 303)


@bp.post("/wording/<letter_type>/preview")
def wording_preview_fragment(letter_type: str):
    """The live preview: the sample letter with the wording being typed, or the problems that refuse it."""
    letter_type = _wording_type(letter_type)
    slots = _posted_slots(letter_type)
    agency = letter_wording.agency_fields(_agency())
    errors = WORDING_CATALOGUE.check(letter_type, slots, agency=agency)
    preview = None if errors else WORDING_CATALOGUE.preview_blocks(letter_type, slots, agency=agency)
    left_out = {} if errors else WORDING_CATALOGUE.left_out(letter_type, slots, agency=agency)
    return render_template("admin/_wording_preview.html", preview=preview, errors=errors, left_out=left_out,
                           labels=WORDING_CATALOGUE.slot_labels(letter_type))


@bp.post("/wording/<letter_type>/preview.pdf")
def wording_preview_pdf(letter_type: str):
    letter_type = _wording_type(letter_type)
    slots = _posted_slots(letter_type)
    record = _agency()
    errors = WORDING_CATALOGUE.check(letter_type, slots, agency=letter_wording.agency_fields(record))
    if errors:
        return _wording_page(letter_type, slots, errors=errors, status=400)
    rendered = WORDING_CATALOGUE.preview_pdf(letter_type, slots, agency=letter_wording.agency_fields(record),
                                           assets=assets_for(record))
    g.framable = True  # a document CSP on a PDF can stop the browser's viewer
    return Response(rendered.pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename={letter_type}-preview.pdf"})


@bp.post("/wording/<letter_type>/activate")
def wording_activate(letter_type: str):
    letter_type = _wording_type(letter_type)
    version = fv.optional_int("version", "版本") or 0
    try:
        letter_wording.activate_wording(db.get_session(), _agency(), letter_type, version, actor=current_user.row)
    except GongkaiError as refusal:
        return _refused(refusal, "admin.wording_edit", letter_type=letter_type)
    flash("已恢复系统默认措辞" if version == 0 else f"已启用第{version}版措辞", "success")
    return redirect(url_for("admin.wording_edit", letter_type=letter_type), 303)


MAX_WORDING_FILE_BYTES = 512 * 1024


@bp.post("/wording/import")
def wording_import():
    """A province's wording from a JSON file: a new version of every letter type it words, all or nothing."""
    file = request.files.get("file")
    content = file.read(MAX_WORDING_FILE_BYTES + 1) if file else b""
    try:
        if not content or len(content) > MAX_WORDING_FILE_BYTES:
            raise InvalidInput("请选择不超过 512 KB 的措辞文件（JSON）")
        try:
            payload = json.loads(content.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise InvalidInput("措辞文件不是有效的 UTF-8 JSON") from None
        rows = letter_wording.import_wording(db.get_session(), _agency(), payload, catalogue=WORDING_CATALOGUE,
                                             actor=current_user.row, activate=fv.flag("activate"),
                                             source=f"导入：{(file.filename or '')[:150]}")
    except GongkaiError as refusal:
        return _refused(refusal, "admin.wordings")
    flash("已导入措辞：" + "、".join(f"{LETTER_TYPES[row.letter_type].title}第{row.version}版" for row in rows),
          "success")
    return redirect(url_for("admin.wordings"), 303)


# 推送（webhooks）: endpoints, their secrets (shown once), the delivery log and 再次发送.

def _webhooks_page(*, new_secret: str | None = None, secret_endpoint=None, values=None, status: int = 200):
    session = db.get_session()
    rows = webhooks.endpoints(session, current_user.agency_id)
    return render_template("admin/webhooks.html", rows=rows, event_types=webhooks.EVENT_TYPES,
                           mask=webhooks.mask_secret, new_secret=new_secret, secret_endpoint=secret_endpoint,
                           values=values or {}), status


@bp.get("/webhooks")
def webhook_list():
    return _webhooks_page()


@bp.post("/webhooks")
def webhook_add():
    session = db.get_session()
    try:
        endpoint = webhooks.add_endpoint(session, _agency(), url=request.form.get("url", ""),
                                         events=request.form.getlist("events"),
                                         description=request.form.get("description", ""), actor=current_user.row)
    except GongkaiError as refusal:
        discard_work(session)
        flash(refusal.message, "error")
        return _webhooks_page(values=request.form, status=status_for(refusal))
    flash("推送地址已添加。签名密钥只显示这一次，请立即复制保存。", "success")
    # Rendered in the POST response (not redirected), like a new API token: the secret is never shown again.
    return _webhooks_page(new_secret=endpoint.secret, secret_endpoint=endpoint)


@bp.post("/webhooks/<int:endpoint_id>/<operation>")
def webhook_operation(endpoint_id: int, operation: str):
    session = db.get_session()
    try:
        if operation == "rotate":
            endpoint = webhooks.rotate_secret(session, current_user.agency_id, endpoint_id, actor=current_user.row)
            flash("已更换签名密钥。新密钥只显示这一次，请立即复制保存。", "success")
            return _webhooks_page(new_secret=endpoint.secret, secret_endpoint=endpoint)
        if operation not in ("enable", "disable"):
            abort(404)
        webhooks.set_active(session, current_user.agency_id, endpoint_id, operation == "enable",
                            actor=current_user.row)
    except NotFound:
        abort(404)
    flash("推送地址已启用" if operation == "enable" else "推送地址已停用", "success")
    return redirect(url_for("admin.webhook_list"), 303)


@bp.get("/webhooks/<int:endpoint_id>")
def webhook_log(endpoint_id: int):
    session = db.get_session()
    try:
        endpoint = webhooks.endpoint_of_agency(session, current_user.agency_id, endpoint_id)
    except NotFound:
        abort(404)
    return render_template("admin/webhook_log.html", endpoint=endpoint, rows=webhooks.delivery_log(session, endpoint),
                           event_types=webhooks.EVENT_TYPES, states=WEBHOOK_DELIVERY_STATE_LABELS,
                           mask=webhooks.mask_secret)


@bp.post("/webhooks/deliveries/<int:delivery_id>/resend")
def webhook_resend(delivery_id: int):
    session = db.get_session()
    try:
        delivery = webhooks.resend(session, current_user.agency_id, delivery_id, actor=current_user.row)
    except NotFound:
        abort(404)
    except GongkaiError as refusal:
        discard_work(session)
        flash(refusal.message, "error")
        return redirect(url_for("admin.webhook_list"), 303)
    flash("已重新排队发送", "success")
    return redirect(url_for("admin.webhook_log", endpoint_id=delivery.endpoint_id), 303)


# 管理审计: the agency's administration and every view or export of personal data, from the audit chain.

@bp.get("/audit")
def audit_log():
    problems = []

    def day(name: str):
        raw = request.args.get(name, "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            problems.append(f"日期「{raw[:20]}」格式应为 YYYY-MM-DD")
            return None

    action = request.args.get("action", "").strip()
    flt = admin_audit.AdminAuditFilter(action=action if action in admin_audit.ACTION_LABELS else None,
                                       actor=request.args.get("actor", "").strip()[:60] or None,
                                       occurred_from=day("from"), occurred_to=day("to"))
    page_arg = request.args.get("page", "1")
    page = int(page_arg) if page_arg.isdigit() and len(page_arg) < 7 else 1
    found = admin_audit.admin_events(db.get_session(), current_user.agency_id, flt, page=page)
    for problem in problems:
        flash(problem, "error")
    return render_template("admin/audit.html", found=found, f=flt, labels=admin_audit.ACTION_LABELS,
                           label=admin_audit.action_label, describe=admin_audit.describe_changes,
                           args={k: v for k, v in request.args.items() if k != "page"})
