"""The codes of the domain and their Chinese labels, defined once for pages, API, audit views and the case file.

Codes are what the database stores (CHECK constraints are built from these tuples); labels are what people
read. The full titles printed on letters belong to the letter catalogue (`letters.catalogue`), which the engine
does not import; `LETTER_LABELS` are the short names pages, messages and the case file use.
"""

from __future__ import annotations

ROLES = ("clerk", "handler", "legal_reviewer", "office_head", "archivist", "admin")
ROLE_LABELS = {
    "clerk": "登记员",
    "handler": "承办人",
    "legal_reviewer": "法制审核",
    "office_head": "公开工作机构负责人",
    "archivist": "档案员",
    "admin": "系统管理员",
}

# DESIGN §2, in the order a case passes through them.
STAGE_LABELS = {
    "received": "收件待确认",
    "registered": "已登记",
    "awaiting_supplement": "补正中",
    "in_handling": "办理中",
    "consulting": "征求意见中",
    "awaiting_fee": "待缴费",
    "drafting": "拟稿",
    "in_review": "法制审核",
    "signed": "已签发",
    "replied": "已答复",
    "closed": "已办结（无答复书）",
    "archived": "已归档",
}
STAGES = tuple(STAGE_LABELS)

CHANNEL_LABELS = {"in_person": "当面", "mail": "邮寄", "plain_letter": "平常信函", "online": "网络", "fax": "传真"}
CHANNELS = tuple(CHANNEL_LABELS)

# API token scopes (DESIGN §7): everything the user's roles allow; reading only; an online portal's
# registration and status lookup.
TOKEN_SCOPE_LABELS = {"full": "全部（按用户角色）", "read": "只读", "portal": "网上申请门户（登记网络申请、查询进度）"}
TOKEN_SCOPES = tuple(TOKEN_SCOPE_LABELS)
# How the receipt names the channel (登记回执: 申请方式).
CHANNEL_RECEIPT_WORDING = {"in_person": "当面提交", "mail": "邮寄", "plain_letter": "平常信函", "online": "网络",
                           "fax": "传真"}

CONSULTATION_KIND_LABELS = {"THIRD_PARTY": "第三方（条例第三十二条）", "AGENCY": "共同制作机关（条例第三十四条）"}
CONSULTATION_KINDS = tuple(CONSULTATION_KIND_LABELS)
CONSULTATION_ANSWER_LABELS = {"CONSENT": "同意公开", "OBJECTION": "不同意公开", "NO_ANSWER": "逾期未提出意见"}
CONSULTATION_ANSWERS = tuple(CONSULTATION_ANSWER_LABELS)

FEE_MODE_LABELS = {"PER_APPLICATION": "按件计收", "PER_PAGE": "按量计收"}
FEE_MODES = tuple(FEE_MODE_LABELS)

CONFIDENTIALITY_LABELS = {"NOT_SECRET": "不涉密", "CLEARED_AFTER_REDACTION": "经区分处理后可公开", "SECRET": "涉密"}
CONFIDENTIALITY_CONCLUSIONS = tuple(CONFIDENTIALITY_LABELS)

REVIEW_STATE_LABELS = {"pending": "待审核", "confirmed": "法制审核确认", "rejected": "法制审核退回"}
EXEMPTION_REVIEW_STATES = tuple(REVIEW_STATE_LABELS)

DELIVERY_LABELS = {"IN_PERSON": "当面送达", "POST": "邮寄送达", "EMAIL": "电子邮件", "ONLINE": "网络平台",
                   "FAX": "传真", "OTHER": "其他"}
DELIVERY_METHODS = tuple(DELIVERY_LABELS)
# How the applicant asked to receive the information (申请表: 获取信息的方式) and the delivery that matches it.
REQUESTED_DELIVERY_METHODS = {"邮寄": "POST", "电子邮件": "EMAIL", "网络平台": "ONLINE", "当面领取": "IN_PERSON",
                              "自行领取": "IN_PERSON", "传真": "FAX"}


def delivery_method_for(requested_delivery: str) -> str | None:
    """The 送达方式 matching what the applicant asked for (a free text such as "邮寄"), None when nothing matches."""
    asked = (requested_delivery or "").strip()
    return next((method for words, method in REQUESTED_DELIVERY_METHODS.items() if words in asked), None)

CHALLENGE_KIND_LABELS = {"REVIEW": "行政复议", "SUIT_DIRECT": "未经复议直接起诉", "SUIT_AFTER_REVIEW": "复议后起诉"}
CHALLENGE_RESULT_LABELS = {"UPHELD": "结果维持", "CORRECTED": "结果纠正", "OTHER": "其他结果", "PENDING": "尚未审结"}
CHALLENGE_KINDS = tuple(CHALLENGE_KIND_LABELS)
CHALLENGE_RESULTS = tuple(CHALLENGE_RESULT_LABELS)
CHALLENGE_LABELS = {**CHALLENGE_KIND_LABELS, **CHALLENGE_RESULT_LABELS}

RETENTION_LABELS = {"PERMANENT": "永久", "Y30": "定期30年", "Y10": "定期10年"}
RETENTION_PERIODS = tuple(RETENTION_LABELS)

# Kinds of uploaded file: what a clerk may choose, and the title each has in the 卷内目录.
UPLOAD_KIND_LABELS = {
    "application": "政府信息公开申请书",
    "application_scan": "政府信息公开申请书（扫描件）",
    "attachment": "申请材料附件",
    "supplement": "补正材料",
    "identity": "申请人身份证明",
    "delivery_proof": "送达回证",
    "consultation": "征求意见材料",
}
UPLOAD_KINDS_CHOOSABLE = ("application", "supplement", "delivery_proof", "consultation", "attachment")

DUE_LABELS = {"on_time": "正常", "due_soon": "即将到期", "overdue": "已超期"}

# Every audit event name: the workflow's actions and the recorded steps that are not transitions.
ACTION_LABELS = {
    "register_request": "登记申请",
    "confirm_receipt": "确认收件",
    "renew_query_code": "重新生成查询码",
    "request_supplement": "补正告知",
    "receive_supplement": "收到补正",
    "close_lapsed_supplement": "逾期未补正，不再处理",
    "accept": "受理并分办",
    "assign": "改派承办",
    "open_consultation": "征求意见",
    "record_consultation_answer": "登记意见",
    "issue_fee_notice": "发出收费通知",
    "record_payment": "登记缴费",
    "close_lapsed_fee": "逾期未缴费，不再处理",
    "extend": "批准延期答复",
    "request_reasons": "要求说明理由",
    "record_reasons": "登记说明理由情况",
    "set_delayed_reply": "确定延迟答复期限",
    "record_decision": "拟定办理结果",
    "record_exemption": "记录不予公开理由",
    "record_confidentiality_review": "保密审查",
    "notify_third_party": "告知第三方公开决定",
    "submit_for_review": "提交法制审核",
    "review_exemption": "审核不予公开理由",
    "return_for_revision": "退回修改",
    "sign": "签发答复书",
    "record_delivery": "登记送达",
    "withdraw": "申请人撤回",
    "archive": "归档",
    "issue_letter": "出具文书",
    "render_letter": "生成文书 PDF",
    "supersede_letter": "更正文书",
    "record_review_or_litigation": "登记复议、诉讼",
    "append_archive_note": "追加备考记录",
    "add_upload": "上传材料",
    "recompute_due": "重算答复期限",
    "override_period_lock": "解除期间锁定",
    "update_applicant": "更正申请人信息",
    "reveal_personal_data": "查看完整个人信息",
    "audit_baseline": "审计基线（启用密钥）",
}

# Names of the values recorded in audit events, as the process record (办理过程记录) shows them.
CHANGE_LABELS = {
    "reg_no": "登记编号", "applicant": "申请人", "channel": "渠道", "submitted_on": "提交日期", "items": "申请内容",
    "received_on": "收到日期", "due_on": "答复期限", "department": "承办部门", "handler": "承办人",
    "type": "文书", "doc_number": "文号", "sha256": "SHA-256", "template_version": "模板版本",
    "letter_id": "文书编号", "method": "送达方式", "delivered_on": "送达日期", "tracking_no": "邮件号",
    "returned": "退回", "archive_no": "档号", "retention": "保管期限", "ruled_retention": "规则保管期限",
    "report_outcome": "办理结果", "finished_on": "办结日期", "working_days": "延长工作日",
    "original_due_on": "原答复期限", "outcome": "办理结果", "ground": "不予公开情形", "conclusion": "结论",
    "kind": "类型", "party": "对象", "sent_on": "发出日期", "answer_due_on": "答复期限", "answer": "意见",
    "answered_on": "答复日期", "amount_yuan": "金额（元）", "paid_on": "缴费日期", "pay_by_on": "缴费期限",
    "mode": "计费方式", "units": "数量", "noted_on": "记录日期", "text": "内容", "filed_on": "提起日期",
    "result": "结果", "decided_on": "审结日期", "period_working_days": "补正期限（工作日）",
    "supplement_due_on": "补正截止日期", "supplement_received_on": "收到补正日期",
    "item": "申请事项序号", "record_id": "理由记录序号", "version": "版本", "replaces": "替换的理由记录",
    "state": "审核状态", "note_id": "备考记录序号", "challenge_id": "复议诉讼记录序号", "upload_id": "材料序号",
    "filename": "文件名", "consultation_id": "征求意见记录序号", "earlier_this_month": "本月此前申请件数",
    "reason_due_on": "说明理由期限", "delay_due_on": "延迟答复期限", "username": "用户名", "roles": "角色",
    "code": "代码", "name": "名称", "old_letter_id": "原文书编号", "new_letter_id": "新文书编号",
    "corrections": "更正内容", "size_bytes": "大小（字节）", "content_type": "文件类型", "confirm": "确认",
    "comment": "意见", "basis": "依据", "reviewed_on": "审查日期", "information": "公开的信息",
    "disclosure_on": "拟公开日期", "summary": "摘要", "paid": "已缴费", "primary": "主要事项",
    "signed_with": "签名证书指纹", "fingerprint_sha256": "证书指纹（SHA-256）", "subject": "证书主体",
    "self_issued": "自签发证书", "not_after": "证书有效期至",
    "wording_version": "措辞版本", "template_version_at_issue": "签发时模板版本",
}
# Keys of audit data that are for machines (integrity checks), never shown in the case file's process record.
CHANGE_KEYS_HIDDEN = frozenset({"template_version", "template_version_at_issue"})

# Short names of the letter types (the catalogue's titles without "政府信息公开申请").
LETTER_LABELS = {
    "receipt": "登记回执", "supplement_notice": "补正告知书", "reason_request": "说明理由告知书",
    "extension_notice": "延期答复告知书", "delay_notice": "延迟答复告知书", "third_party_consultation": "征求第三方意见书",
    "third_party_disclosure_notice": "公开决定告知书", "agency_consultation": "征求意见书",
    "consultation_notice": "征求意见告知书", "fee_notice": "收费通知书", "reply": "答复书",
    "termination_notice": "终止办理告知书",
}
# 条例35: how the applicant answered the request for reasons.
REASON_ANSWER_LABELS = {"ANSWERED": "已说明理由", "LAPSED": "逾期未说明理由"}
REASON_ANSWERS = tuple(REASON_ANSWER_LABELS)

# Background jobs (engine/services/jobs.py): the four states a job row can be in.
JOB_STATE_LABELS = {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "失败"}
JOB_STATES = tuple(JOB_STATE_LABELS)

# Notifications (engine/services/notifications.py): how a message travels and where it stands.
MESSAGE_CHANNEL_LABELS = {"email": "电子邮件", "sms": "短信"}
MESSAGE_CHANNELS = tuple(MESSAGE_CHANNEL_LABELS)
MESSAGE_STATE_LABELS = {"queued": "待发送", "sent": "已发送", "failed": "发送失败", "suppressed": "未发送"}
MESSAGE_STATES = tuple(MESSAGE_STATE_LABELS)
# 推送（webhook）: how the sending of one event to one endpoint stands.
WEBHOOK_DELIVERY_STATE_LABELS = {
    "pending": "待发送",
    "retrying": "等待重试",
    "delivered": "已送达",
    "failed": "发送失败",
}
WEBHOOK_DELIVERY_STATES = tuple(WEBHOOK_DELIVERY_STATE_LABELS)
