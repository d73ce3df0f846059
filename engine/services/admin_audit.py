"""The agency's administration as the audit chain recorded it (管理审计): users, roles, tokens, settings, seal,
signing key, wording, webhooks — and every view or export of personal data (个人信息保护法第51条) — for the admin
audit page; who did what and when, in Chinese, filterable and paginated. The chain stays the only record: this
module only reads it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine.persistence.audit import record_event
from engine.persistence.models import AuditEvent
from engine.rules.vocabulary import ROLE_LABELS

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Case events that belong here too: they are about who saw or took personal data, not about the case's handling.
PERSONAL_DATA_ACTIONS = ("reveal_personal_data", "export_personal_data")
ACTION_LABELS = {
    "add_agency": "新建机关",
    "add_user": "新增用户",
    "user_deactivate": "停用用户",
    "user_activate": "启用用户",
    "user_unlock": "解除锁定",
    "user_reset_password": "重置密码",
    "user_roles": "修改角色",
    "log_out": "退出登录（结束全部会话）",
    "create_token": "创建 API 令牌",
    "revoke_token": "吊销 API 令牌",
    "add_department": "新增部门",
    "update_agency_settings": "修改机关设置",
    "upload_seal": "更换印章图片",
    "set_signing_key": "设置签名证书",
    "save_letter_wording": "保存文书措辞",
    "activate_letter_wording": "启用文书措辞版本",
    "add_webhook": "添加推送地址",
    "enable_webhook": "启用推送地址",
    "disable_webhook": "停用推送地址",
    "rotate_webhook_secret": "更换推送签名密钥",
    "resend_webhook": "再次发送推送",
    "import_ledger": "导入历史台账",
    "edit_annual_report": "填写年度报告",
    "publish_report": "发布年度报告",
    "override_period_lock": "修改已锁定年度的数据",
    "reveal_personal_data": "查看完整个人信息",
    "export_personal_data": "导出含个人信息的数据",
}
CHANGE_LABELS = {
    "username": "用户名", "roles": "角色", "active": "启用", "user": "用户", "name": "名称", "token_id": "令牌编号",
    "revoked_tokens": "吊销令牌数", "code": "机关代码", "sha256": "SHA-256", "bytes": "字节",
    "fingerprint_sha256": "证书指纹", "subject": "证书主体", "self_issued": "自签发", "not_after": "有效期至",
    "letter_type": "文书类型", "version": "版本", "previous_version": "原版本", "source": "来源", "based_on": "基于版本",
    "slots": "段落", "endpoint_id": "推送地址编号", "url": "接收地址", "events": "事件", "delivery_id": "推送记录编号",
    "event_id": "事件编号", "event_type": "事件类型", "fields": "字段", "export": "导出", "rows": "行数",
    "filter": "筛选条件", "reg_no": "登记编号", "year": "年度", "file": "文件", "reason": "理由",
    # 机关设置 (engine.services.agency_admin)
    "reg_no_pattern": "登记编号格式", "letter_no_prefix": "发文机关代字", "letter_no_pattern": "文号格式",
    "archive_no_pattern": "档号格式", "review_body": "行政复议机关", "court": "管辖法院", "contact": "联系方式",
    "address": "通信地址", "online_review_channel": "网上复议渠道", "supplement_period_working_days": "补正期限（工作日）",
    "fee_pauses_clock": "收费期间暂停计时", "online_manual_confirmation": "网上申请人工确认", "topics": "主题分类",
    "fee_payment_method": "缴费方式", "reason_request_pauses_clock": "说明理由期间暂停计时",
    "review_first_also": "另按复议前置告知的结果", "seal_placeholder": "加盖实物印章", "contact_phone": "联系电话",
    "one_person_office": "一人办公室（豁免职责分离）",
}


@dataclass(frozen=True)
class AdminAuditFilter:
    action: str | None = None
    actor: str | None = None          # part of the actor's name
    occurred_from: date | None = None  # Asia/Shanghai calendar days, inclusive
    occurred_to: date | None = None


@dataclass(frozen=True)
class AdminAuditPage:
    rows: list[AuditEvent]
    total: int
    page: int
    pages: int


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI).astimezone(UTC)


def admin_events(session: Session, agency_id: int, flt: AdminAuditFilter, *, page: int = 1,
                 per_page: int = 50) -> AdminAuditPage:
    """One page of the agency's non-case events (and personal-data views and exports), newest first."""
    conditions = [AuditEvent.agency_id == agency_id,
                  or_(AuditEvent.case_id.is_(None), AuditEvent.action.in_(PERSONAL_DATA_ACTIONS)),
                  AuditEvent.action != "audit_baseline"]
    if flt.action:
        conditions.append(AuditEvent.action == flt.action)
    if flt.actor:
        escaped = flt.actor.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(AuditEvent.actor_name.like(f"%{escaped}%", escape="\\"))
    if flt.occurred_from:
        conditions.append(AuditEvent.occurred_at >= _start_of(flt.occurred_from))
    if flt.occurred_to:
        conditions.append(AuditEvent.occurred_at < _start_of(flt.occurred_to + timedelta(days=1)))
    total = int(session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0)
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = list(session.scalars(select(AuditEvent).where(*conditions).order_by(AuditEvent.seq.desc())
                                .limit(per_page).offset((page - 1) * per_page)))
    return AdminAuditPage(rows, total, page, pages)


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def describe_changes(changes: dict | None) -> list[str]:
    """What changed, one readable line per field (`before → after` where the event recorded both)."""
    lines = []
    for key, value in (changes or {}).items():
        label = CHANGE_LABELS.get(key, key)
        if key == "roles":
            value = _role_labels(value)
        if isinstance(value, dict) and set(value) >= {"before", "after"}:
            lines.append(f"{label}：{_plain(value['before'])} → {_plain(value['after'])}")
        else:
            lines.append(f"{label}：{_plain(value)}")
    return lines


def _role_labels(value):
    if isinstance(value, dict):
        return {k: _role_labels(v) for k, v in value.items()}
    return [ROLE_LABELS.get(role, role) for role in value] if isinstance(value, list) else value


def _plain(value) -> str:
    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return "、".join(_plain(v) for v in value) or "（空）"
    if isinstance(value, dict):
        return "；".join(f"{CHANGE_LABELS.get(k, k)}={_plain(v)}" for k, v in value.items())
    text = str(value)
    return text if len(text) <= 200 else text[:200] + "…"


def log_personal_data_export(session: Session, agency_id: int, *, actor, export: str, rows: int | None = None,
                             filter: str = "", reg_no: str | None = None) -> AuditEvent:
    """An export that carries personal data (names, ID numbers, contacts) is an audited act: who, when, which
    export, how many rows, with which filter (个人信息保护法第51条)."""
    changes = {"export": export}
    if rows is not None:
        changes["rows"] = rows
    if filter:
        changes["filter"] = filter[:500]
    if reg_no:
        changes["reg_no"] = reg_no
    return record_event(session, agency_id=agency_id, action="export_personal_data", actor=actor, changes=changes)
