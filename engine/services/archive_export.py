"""Archival case files (案卷, 条例45 归档) that stand on their own outside Gongkai: collect, package, verify.

A case file is a ZIP named by the archive number (档号) holding 案卷.pdf (cover, 卷内目录, the documents in
archival order, the process record, the exemption log and the 备考表, rendered by an injected renderer), the
original documents byte for byte, manifest.json (case metadata, every file's SHA-256 and size, the audit
chain's hashes) and SHA256SUMS. The same manifest.json is embedded in 案卷.pdf, so either one checks the other.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from engine.errors import GongkaiError, NotFound, RuleViolation
from engine.persistence.models import (
    Agency,
    ArchiveNote,
    AuditEvent,
    Case,
    CaseItem,
    Consultation,
    Delivery,
    ExemptionRecord,
    Letter,
    Upload,
    User,
)
from engine.rules.outcomes import APPLICANT_TYPES, OUTCOMES
from engine.rules.vocabulary import CHANNEL_LABELS, CONFIDENTIALITY_LABELS, DELIVERY_LABELS, RETENTION_LABELS
from engine.rules.workflow import ACTIONS, STAGE_LABELS

FORMAT = "gongkai-casefile/1"
CASEFILE_PDF = "案卷.pdf"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
ORIGINALS = "原件"
SHANGHAI = ZoneInfo("Asia/Shanghai")

# DESIGN §5 catalogue: the Chinese title of each letter type, as printed in the 卷内目录.
LETTER_TITLES = {
    "receipt": "登记回执",
    "supplement_notice": "补正告知书",
    "reason_request": "说明理由告知书",
    "extension_notice": "延期答复告知书",
    "delay_notice": "延迟答复告知书",
    "third_party_consultation": "征求第三方意见书",
    "third_party_disclosure_notice": "公开决定告知第三方书",
    "agency_consultation": "征求共同制作机关意见书",
    "fee_notice": "收费通知书",
    "reply": "政府信息公开申请答复告知书",
    "termination_notice": "终止办理告知书",
}
RESULT_LETTERS = ("reply", "termination_notice")
APPLICATION_UPLOADS = ("application", "attachment", "supplement", "application_scan", "identity")
UPLOAD_TITLES = {
    "application": "政府信息公开申请书",
    "application_scan": "政府信息公开申请书（扫描件）",
    "attachment": "申请材料附件",
    "supplement": "补正材料",
    "identity": "申请人身份证明",
    "delivery_proof": "送达回证",
    "consultation": "征求意见材料",
}
EXEMPTION_STATES = {"pending": "待审核", "confirmed": "法制审核确认", "rejected": "法制审核退回"}
EXTRA_ACTIONS = {
    "register_request": "登记申请",
    "issue_letter": "出具文书",
    "supersede_letter": "更正文书",
    "record_exemption": "记录不予公开理由",
    "record_review_or_litigation": "登记复议、诉讼",
    "append_archive_note": "追加备考记录",
    "add_upload": "上传材料",
    "recompute_due": "重算答复期限",
    "override_period_lock": "解除期间锁定",
}
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
}
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


class RenderedCaseFileLike(Protocol):
    pdf: bytes
    page_count: int


class CaseFileRenderer(Protocol):
    """Renders 案卷.pdf from the case file's plain data, its documents' bytes and the manifest to embed."""

    def __call__(self, data: dict, contents: list[bytes], *, manifest: bytes) -> RenderedCaseFileLike: ...


@dataclass
class CaseFileDocument:
    """One original document of the case file, in archival order, with the bytes that go into the ZIP."""

    part: str            # "result" | "application" | "process"
    kind: str            # "letter" | "upload"
    source_id: int
    path: str            # inside the ZIP
    title: str
    doc_number: str
    author: str
    dated_on: date
    content_type: str
    sha256: str
    content: bytes = field(repr=False)
    letter_type: str = ""
    template_version: str = ""
    note: str = ""
    suffix: str = ".pdf"

    def index_entry(self) -> dict:
        return {"part": self.part, "path": self.path, "title": self.title, "doc_number": self.doc_number,
                "author": self.author, "dated_on": self.dated_on.isoformat(), "content_type": self.content_type,
                "sha256": self.sha256, "size_bytes": len(self.content), "note": self.note}


@dataclass
class CaseFile:
    """Everything one ZIP needs: the renderer's plain data, the originals and the manifest."""

    case_id: int
    reg_no: str
    archive_no: str
    data: dict
    documents: list[CaseFileDocument]
    manifest: dict

    @property
    def zip_name(self) -> str:
        return safe_filename(self.archive_no) + ".zip"

    def manifest_bytes(self) -> bytes:
        return (json.dumps(self.manifest, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode()


@dataclass(frozen=True)
class ExportResult:
    reg_no: str
    path: Path | None
    error: str | None = None


def safe_filename(text: str) -> str:
    """A file name from a number or title: no path separators or characters Windows refuses."""
    cleaned = _UNSAFE.sub("_", text).strip(" .")
    return cleaned[:120] or "未命名"


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# ---------------------------------------------------------------- collecting a case file

def find_archived_case(session: Session, agency_id: int, reg_no: str) -> Case:
    """The case with this registration number in the agency; it must be archived to be exported."""
    case = session.scalar(select(Case).where(Case.agency_id == agency_id, Case.reg_no == reg_no.strip()))
    if case is None:
        raise NotFound(f"没有找到登记编号为「{reg_no}」的申请")
    return case


def collect_case_file(session: Session, case: Case, *, exported_at: datetime) -> CaseFile:
    """The plain data of one archived case file (条例45), its originals checked against their stored hashes."""
    if case.stage != "archived" or not case.archive_no:
        raise RuleViolation(f"案件 {case.reg_no} 尚未归档（当前阶段：{STAGE_LABELS.get(case.stage, case.stage)}），"
                            "不能导出案卷；请先由档案员归档")
    agency = session.get(Agency, case.agency_id)
    users = _user_names(session, case)
    documents = _documents(session, case, agency, users)
    timeline, audit = _timeline(session, case, agency, users)
    exemptions = _exemptions(session, case, users)
    notes = [{"noted_on": n.noted_on.isoformat(), "text": n.text, "author": users.get(n.author_id, "")}
             for n in session.scalars(select(ArchiveNote).where(ArchiveNote.case_id == case.id)
                                      .order_by(ArchiveNote.noted_on, ArchiveNote.id))]
    archive_event = next((e for e in reversed(timeline) if e["action_code"] == "archive"), None)
    title = case_file_title(case)
    end_on = max(d for d in (case.archived_on, case.finished_on, *(doc.dated_on for doc in documents)) if d)
    items = [{"seq": item.seq, "description": item.description, "topic": item.topic, "outcome": item.outcome,
              "outcome_label": OUTCOMES[item.outcome].label if item.outcome in OUTCOMES else "",
              "article": OUTCOMES[item.outcome].article if item.outcome in OUTCOMES else ""}
             for item in case.items]
    applicant = case.applicant
    data = {
        "agency_name": agency.name, "agency_code": agency.code, "archive_no": case.archive_no, "reg_no": case.reg_no,
        "title": title, "retention": case.retention, "retention_label": RETENTION_LABELS.get(case.retention, ""),
        "retention_reason": case.retention_reason, "start_on": case.submitted_on.isoformat(),
        "end_on": end_on.isoformat(), "registered_on": (case.received_on or case.submitted_on).isoformat(),
        "archived_on": case.archived_on.isoformat(), "archivist": archive_event["actor"] if archive_event else "",
        "checker": "",
        "applicant": {"name": applicant.name, "kind": applicant.kind,
                      "kind_label": APPLICANT_TYPES.get(applicant.kind, applicant.kind),
                      "id_type": applicant.id_type, "id_number": applicant.id_number,
                      "contact": "；".join(p for p in (applicant.phone, applicant.email, applicant.address,
                                                       applicant.postal_code) if p)},
        "request": {"channel_label": CHANNEL_LABELS.get(case.channel, case.channel),
                    "submitted_on": case.submitted_on.isoformat(),
                    "received_on": case.received_on.isoformat() if case.received_on else "",
                    "requested_form": case.requested_form, "requested_delivery": case.requested_delivery,
                    "purpose": case.purpose},
        "items": items,
        "outcome_label": OUTCOMES[case.report_outcome].label if case.report_outcome in OUTCOMES else "",
        "finished_on": case.finished_on.isoformat() if case.finished_on else "",
        "extension": (f"延长 {case.extension_working_days} 个工作日：{case.extension_reason}"
                      if case.extension_working_days else ""),
        "closed_reason": case.closed_reason,
        "department": "／".join(p for p in (case.department.name if case.department else "",
                                           users.get(case.handler_id, "")) if p),
        "documents": [d.index_entry() for d in documents],
        "timeline": timeline, "exemptions": exemptions, "notes": notes, "audit": audit,
        "exported_at": exported_at.astimezone(SHANGHAI).isoformat(timespec="seconds"),
    }
    manifest = {
        "format": FORMAT,
        "casefile_pdf": CASEFILE_PDF,
        "exported_at": data["exported_at"],
        "agency": {"code": agency.code, "name": agency.name},
        "case": {"reg_no": case.reg_no, "archive_no": case.archive_no, "title": title,
                 "retention": case.retention, "retention_label": data["retention_label"],
                 "retention_reason": case.retention_reason, "applicant": {"name": applicant.name,
                                                                          "kind": applicant.kind},
                 "channel": case.channel, "submitted_on": data["start_on"], "received_on": data["request"]["received_on"],
                 "finished_on": data["finished_on"], "archived_on": data["archived_on"],
                 "report_outcome": case.report_outcome,
                 "items": [{k: item[k] for k in ("seq", "description", "outcome")} for item in items]},
        "files": [{**d.index_entry(), "kind": d.kind, "source_id": d.source_id, "letter_type": d.letter_type,
                   "template_version": d.template_version} for d in documents],
        "audit": audit,
        "archive_notes": [{"noted_on": n["noted_on"], "text": n["text"]} for n in notes],
    }
    return CaseFile(case_id=case.id, reg_no=case.reg_no, archive_no=case.archive_no, data=data,
                    documents=documents, manifest=manifest)


def case_file_title(case: Case) -> str:
    """案卷题名: 关于<申请人>“<申请内容>”政府信息公开申请的办理案卷."""
    first = case.items[0].description if case.items else ""
    short = first if len(first) <= 30 else first[:30] + "…"
    more = f"等{len(case.items)}项" if len(case.items) > 1 else ""
    return f"关于{case.applicant.name}“{short}”{more}政府信息公开申请的办理案卷"


def _user_names(session: Session, case: Case) -> dict[int, str]:
    rows = session.execute(select(User.id, User.display_name, User.username).where(User.agency_id == case.agency_id))
    return {uid: display or username for uid, display, username in rows}


def _documents(session: Session, case: Case, agency: Agency, users: dict[int, str]) -> list[CaseFileDocument]:
    """The originals in archival order: the reply first, the application and its attachments, then the
    process documents by date; every stored hash is checked, so a corrupted blob stops the export."""
    letters = session.scalars(select(Letter).where(Letter.case_id == case.id).order_by(Letter.issued_on, Letter.id)).all()
    uploads = session.scalars(select(Upload).where(Upload.case_id == case.id).order_by(Upload.created_at, Upload.id)).all()
    superseded_by = {letter.supersedes_id: letter for letter in letters if letter.supersedes_id}
    delivered = _delivery_notes(session, case)
    result, application, process = [], [], []
    for letter in letters:
        _check_blob(case, f"{LETTER_TITLES.get(letter.letter_type, letter.letter_type)} {letter.doc_number}".strip(),
                    letter.pdf, letter.sha256, letter.size_bytes)
        notes = []
        if letter.id in superseded_by:
            notes.append(f"已被{superseded_by[letter.id].doc_number or '新文书'}更正")
        if letter.supersedes_id:
            notes.append(f"更正：{letter.supersede_reason}")
        notes.extend(delivered.get(letter.id, []))
        live_result = letter.letter_type in RESULT_LETTERS and letter.id not in superseded_by
        doc = CaseFileDocument(
            part="result" if live_result else "process", kind="letter", source_id=letter.id, path="",
            title=LETTER_TITLES.get(letter.letter_type, letter.letter_type), doc_number=letter.doc_number,
            author=agency.name, dated_on=letter.issued_on, content_type="application/pdf", sha256=letter.sha256,
            content=letter.pdf, letter_type=letter.letter_type, template_version=letter.template_version,
            note="；".join(notes))
        (result if live_result else process).append(doc)
    for upload in uploads:
        title = UPLOAD_TITLES.get(upload.kind, "材料")
        _check_blob(case, f"{title}（{upload.filename}）", upload.content, upload.sha256, upload.size_bytes)
        is_application = upload.kind in APPLICATION_UPLOADS
        doc = CaseFileDocument(
            part="application" if is_application else "process", kind="upload", source_id=upload.id, path="",
            title=f"{title}（{upload.filename}）", doc_number="",
            author=case.applicant.name if is_application else agency.name,
            dated_on=_local_date(upload.created_at), content_type=upload.content_type, sha256=upload.sha256,
            content=upload.content, note=f"上传人：{users.get(upload.uploaded_by_id, '')}",
            suffix=_upload_suffix(upload))
        (application if is_application else process).append(doc)
    process.sort(key=lambda d: (d.dated_on, d.kind != "letter", d.source_id))
    ordered = [*sorted(result, key=lambda d: (d.letter_type != "reply", d.dated_on)), *application, *process]
    for n, doc in enumerate(ordered, start=1):
        stem = safe_filename("_".join(p for p in (f"{n:02d}", doc.title, doc.doc_number) if p))
        doc.path = f"{ORIGINALS}/{stem}{doc.suffix}"
    return ordered


def _upload_suffix(upload: Upload) -> str:
    suffix = Path(upload.filename).suffix.lower()
    if suffix and len(suffix) <= 6 and suffix[1:].isalnum():
        return suffix
    return {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png", "image/tiff": ".tif"}.get(
        upload.content_type, ".bin")


def _delivery_notes(session: Session, case: Case) -> dict[int, list[str]]:
    notes: dict[int, list[str]] = {}
    for d in session.scalars(select(Delivery).where(Delivery.case_id == case.id).order_by(Delivery.id)):
        if d.letter_id is None:
            continue
        text = f"{DELIVERY_LABELS.get(d.method, d.method)} {d.delivered_on.isoformat()}"
        if d.tracking_no:
            text += f"（{d.tracking_no}）"
        if d.returned:
            text += "，被退回"
        notes.setdefault(d.letter_id, []).append(text)
    return notes


def _check_blob(case: Case, what: str, content: bytes | None, stored_sha256: str, stored_size: int) -> None:
    if content is None or (len(content) == 0 and stored_size):
        raise RuleViolation(f"案件 {case.reg_no} 的{what}缺少原件内容（数据库中没有文件数据），不能导出案卷")
    actual = sha256_hex(content)
    if actual != stored_sha256:
        raise RuleViolation(
            f"案件 {case.reg_no} 的{what}已损坏：存储的 SHA-256 为 {stored_sha256}，实际内容为 {actual}；"
            "签发或上传后的文件不得改动，请核查后再导出")


def _local_date(moment: datetime) -> date:
    return _as_utc(moment).astimezone(SHANGHAI).date()


def _as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were stored as UTC (engine.persistence.audit.utcnow).
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _local_time(moment: datetime | None) -> str:
    return _as_utc(moment).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _timeline(session: Session, case: Case, agency: Agency, users: dict[int, str]) -> tuple[list[dict], dict]:
    events = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)).all()
    timeline = []
    for n, event in enumerate(events, start=1):
        action = ACTIONS[event.action].label if event.action in ACTIONS else EXTRA_ACTIONS.get(event.action, event.action)
        before = STAGE_LABELS.get(event.stage_before, event.stage_before or "")
        after = STAGE_LABELS.get(event.stage_after, event.stage_after or "")
        stages = after if before == after or not before else f"{before} → {after}"
        timeline.append({"seq": n, "event_seq": event.seq, "at": _local_time(event.occurred_at),
                         "actor": event.actor_name, "action": action, "action_code": event.action,
                         "stages": stages, "details": describe_changes(event.changes or {}), "reason": event.reason})
    last = events[-1] if events else None
    audit = {"agency_head_seq": agency.audit_seq, "agency_head_hash": agency.audit_head_hash,
             "case_event_count": len(events), "case_last_seq": last.seq if last else None,
             "case_last_hash": last.hash if last else None}
    return timeline, audit


def describe_changes(changes: dict) -> str:
    """An audit event's data in one readable line: 标签：值；…"""
    parts = []
    for key, value in changes.items():
        label = CHANGE_LABELS.get(key, key)
        parts.append(f"{label}：{_value_text(key, value)}")
    text = "；".join(parts)
    return text if len(text) <= 600 else text[:600] + "…"


def _value_text(key: str, value) -> str:
    if isinstance(value, dict) and set(value) == {"before", "after"}:
        return f"{_value_text(key, value['before'])} → {_value_text(key, value['after'])}"
    if isinstance(value, dict):
        return "，".join(f"{CHANGE_LABELS.get(k, k)} {_value_text(k, v)}" for k, v in value.items())
    if isinstance(value, list):
        return "、".join(_value_text(key, v) for v in value)
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if key == "sha256" and isinstance(value, str):
        return value[:16] + "…"  # the full hash is in the 备考表 and manifest.json
    if key == "retention" or key == "ruled_retention":
        return RETENTION_LABELS.get(value, str(value))
    if key in ("report_outcome", "outcome", "ground") and value in OUTCOMES:
        return OUTCOMES[value].label
    if key == "method":
        return DELIVERY_LABELS.get(value, str(value))
    if key == "channel":
        return CHANNEL_LABELS.get(value, str(value))
    if key == "conclusion":
        return CONFIDENTIALITY_LABELS.get(value, str(value))
    return str(value)


def _exemptions(session: Session, case: Case, users: dict[int, str]) -> list[dict]:
    rows = session.execute(
        select(ExemptionRecord, CaseItem.seq).join(CaseItem, CaseItem.id == ExemptionRecord.item_id)
        .where(ExemptionRecord.case_id == case.id).order_by(CaseItem.seq, ExemptionRecord.version, ExemptionRecord.id)
    ).all()
    consultations = {c.id: c for c in session.scalars(select(Consultation).where(Consultation.case_id == case.id))}
    out = []
    for record, item_seq in rows:
        extra = []
        if record.consultation_id and record.consultation_id in consultations:
            c = consultations[record.consultation_id]
            extra.append(("征求意见", f"{c.party_name}，{c.sent_on.isoformat()} 发出，意见：{c.answer or '未答复'}"
                                   f"{'（' + c.answer_summary + '）' if c.answer_summary else ''}"))
        for label, value in (("未征求意见的理由", record.no_consultation_reason),
                             ("公共利益衡量", record.public_interest), ("法律、行政法规依据", record.law_citation),
                             ("定密依据", record.classification_basis), ("裁量理由", record.discretion_reason),
                             ("检索记录", record.search_record)):
            if value:
                extra.append((label, value))
        out.append({"item_seq": item_seq, "version": record.version, "current": record.current,
                    "ground": record.ground, "ground_label": OUTCOMES[record.ground].label if record.ground in OUTCOMES
                    else record.ground, "article": record.article, "facts": record.facts, "scope": record.scope,
                    "whole_item": record.whole_item, "severability": record.severability, "extra": extra,
                    "review_state": record.review_state,
                    "review_state_label": EXEMPTION_STATES.get(record.review_state, record.review_state),
                    "reviewer": users.get(record.reviewed_by_id, ""), "review_comment": record.review_comment,
                    "reviewed_at": _local_time(record.reviewed_at), "created_by": users.get(record.created_by_id, ""),
                    "created_at": _local_time(record.created_at)})
    return out


# ---------------------------------------------------------------- writing the ZIP

def write_case_file(case_file: CaseFile, out_dir: Path, renderer: CaseFileRenderer) -> Path:
    """The ZIP in `out_dir`, written to a temporary file there and renamed at the end (deleted on failure)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = case_file.manifest_bytes()
    try:
        rendered = renderer(case_file.data, [d.content for d in case_file.documents], manifest=manifest)
    except GongkaiError:
        raise
    except Exception as error:  # LetterRenderError / LetterDataError from the letters package
        raise RuleViolation(f"案件 {case_file.reg_no} 的案卷 PDF 无法生成：{error}") from error
    target = out_dir / case_file.zip_name
    stamp = _zip_time(case_file.data["exported_at"])
    fd, temp_name = tempfile.mkstemp(prefix=f".{case_file.zip_name}.", suffix=".part", dir=out_dir)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w") as archive:
            sums = []
            entries = [(CASEFILE_PDF, rendered.pdf, zipfile.ZIP_STORED)]
            entries += [(d.path, d.content, zipfile.ZIP_STORED) for d in case_file.documents]
            entries.append((MANIFEST, manifest, zipfile.ZIP_DEFLATED))
            for name, content, method in entries:
                _write_entry(archive, name, content, method, stamp)
                sums.append(f"{sha256_hex(content)}  {name}\n")
            _write_entry(archive, SUMS, "".join(sums).encode(), zipfile.ZIP_DEFLATED, stamp)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target


def _write_entry(archive: zipfile.ZipFile, name: str, content: bytes, method: int, stamp: tuple) -> None:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = method
    info.external_attr = 0o644 << 16
    archive.writestr(info, content)


def _zip_time(iso: str) -> tuple:
    moment = datetime.fromisoformat(iso)
    return (max(moment.year, 1980), moment.month, moment.day, moment.hour, moment.minute, moment.second)


def export_case(session: Session, *, agency_id: int, reg_no: str, out_dir: Path, renderer: CaseFileRenderer,
                exported_at: datetime | None = None) -> Path:
    """Export one archived case file (档案移交、利用) as a ZIP in `out_dir`."""
    case = find_archived_case(session, agency_id, reg_no)
    case_file = collect_case_file(session, case, exported_at=exported_at or datetime.now(UTC))
    return write_case_file(case_file, out_dir, renderer)


def archived_case_ids(session: Session, agency_id: int, year: int) -> list[int]:
    """Archived cases of a year (the year in the archive number: the finishing year, else the archiving year)."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    return list(session.scalars(
        select(Case.id).where(
            Case.agency_id == agency_id, Case.stage == "archived",
            or_(Case.finished_on.between(start, end),
                and_(Case.finished_on.is_(None), Case.archived_on.between(start, end))))
        .order_by(Case.reg_year, Case.reg_seq)))


def export_year(session: Session, *, agency_id: int, year: int | None = None, out_dir: Path, renderer: CaseFileRenderer,
                case_ids: list[int] | None = None, exported_at: datetime | None = None) -> Iterator[ExportResult]:
    """Every archived case file of a year, one at a time: each ZIP is written, then the session is emptied,
    so memory stays bounded by the largest single case whatever the number of cases."""
    ids = case_ids if case_ids is not None else archived_case_ids(session, agency_id, year or 0)
    moment = exported_at or datetime.now(UTC)
    for case_id in ids:
        case = session.get(Case, case_id)
        reg_no = case.reg_no
        try:
            case_file = collect_case_file(session, case, exported_at=moment)
            path = write_case_file(case_file, out_dir, renderer)
            yield ExportResult(reg_no, path)
        except GongkaiError as error:
            yield ExportResult(reg_no, None, error.message)
        finally:
            session.expunge_all()


# ---------------------------------------------------------------- verifying a ZIP

def verify_case_zip(path: Path, *, embedded_manifest: Callable[[bytes], bytes | None] | None = None) -> list[str]:
    """Every difference between a case-file ZIP and its own hashes and manifests, in Chinese; [] = intact."""
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        return [f"{path.name} 不是有效的 ZIP 文件或无法读取：{error}"]
    problems: list[str] = []
    with archive:
        contents: dict[str, bytes] = {}
        for info in archive.infolist():
            try:
                contents[info.filename] = archive.read(info)
            except (zipfile.BadZipFile, OSError) as error:
                problems.append(f"文件「{info.filename}」已损坏（ZIP 校验失败：{error}）")
    for required in (CASEFILE_PDF, MANIFEST, SUMS):
        if required not in contents and not any(required in p for p in problems):
            problems.append(f"缺少文件「{required}」")
    listed = _parse_sums(contents.get(SUMS, b""), problems)
    for name, expected in listed.items():
        if name not in contents:
            if not any(f"「{name}」" in p for p in problems):
                problems.append(f"SHA256SUMS 列出的文件「{name}」不在案卷包中")
        elif sha256_hex(contents[name]) != expected:
            problems.append(f"文件「{name}」的 SHA-256 与 SHA256SUMS 不符（文件被修改）：应为 {expected}，"
                            f"实际为 {sha256_hex(contents[name])}")
    for name in contents:
        if name != SUMS and name not in listed:
            problems.append(f"文件「{name}」未列入 SHA256SUMS（案卷包被添加了文件）")
    manifest = _parse_manifest(contents.get(MANIFEST), problems)
    if manifest is not None:
        _check_manifest_files(manifest, contents, problems)
    pdf = contents.get(CASEFILE_PDF)
    if pdf is not None and MANIFEST in contents:
        _check_embedded(pdf, contents[MANIFEST], embedded_manifest or read_embedded_manifest, problems)
    return problems


def _parse_sums(raw: bytes, problems: list[str]) -> dict[str, str]:
    listed: dict[str, str] = {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        problems.append("SHA256SUMS 不是 UTF-8 文本")
        return listed
    for number, line in enumerate(text.splitlines(), start=1):
        match = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line)
        if not match:
            problems.append(f"SHA256SUMS 第 {number} 行格式不正确：{line[:80]}")
            continue
        listed[match.group(2)] = match.group(1)
    return listed


def _parse_manifest(raw: bytes | None, problems: list[str]) -> dict | None:
    if raw is None:
        return None
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        problems.append(f"manifest.json 无法解析：{error}")
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), list):
        problems.append(f"manifest.json 不是本系统的案卷清单（格式应为 {FORMAT}）")
        return None
    return manifest


def _check_manifest_files(manifest: dict, contents: dict[str, bytes], problems: list[str]) -> None:
    for entry in manifest["files"]:
        name = entry.get("path", "")
        if name not in contents:
            problems.append(f"manifest.json 列出的原件「{name}」不在案卷包中")
            continue
        actual = contents[name]
        if sha256_hex(actual) != entry.get("sha256"):
            problems.append(f"原件「{name}」的 SHA-256 与 manifest.json 不符：应为 {entry.get('sha256')}，"
                            f"实际为 {sha256_hex(actual)}")
        if len(actual) != entry.get("size_bytes"):
            problems.append(f"原件「{name}」的大小与 manifest.json 不符：应为 {entry.get('size_bytes')} 字节，"
                            f"实际为 {len(actual)} 字节")
    expected = {entry.get("path") for entry in manifest["files"]} | {CASEFILE_PDF, MANIFEST, SUMS}
    for name in contents:
        if name.startswith(ORIGINALS + "/") and name not in expected:
            problems.append(f"原件目录中的「{name}」未列入 manifest.json")


def read_embedded_manifest(pdf: bytes) -> bytes | None:
    """The manifest.json attached to 案卷.pdf (a PDF/A-3 associated file)."""
    from pypdf import PdfReader

    found = PdfReader(io.BytesIO(pdf)).attachments.get(MANIFEST)
    return found[0] if found else None


def _check_embedded(pdf: bytes, manifest: bytes, reader: Callable[[bytes], bytes | None], problems: list[str]) -> None:
    try:
        embedded = reader(pdf)
    except Exception as error:  # noqa: BLE001 - any parse failure of a tampered PDF is a finding, not a crash
        problems.append(f"案卷.pdf 无法读取（文件已损坏）：{error}")
        return
    if embedded is None:
        problems.append("案卷.pdf 中没有内嵌的 manifest.json")
    elif embedded != manifest:
        problems.append("案卷.pdf 内嵌的 manifest.json 与案卷包中的 manifest.json 不一致")
