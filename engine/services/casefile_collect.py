"""Collecting an archived case file (案卷, 条例45 归档) from the database: its plain data, originals and manifest.

The originals are checked against their stored hashes on the way, so a corrupted blob stops the export;
what the package holds and how it is written is `engine.services.casefile_package`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, defer

from engine.errors import NotFound, RuleViolation, WorkflowError
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
    SigningKey,
    Upload,
    User,
)
from engine.rules.outcomes import APPLICANT_TYPES, OUTCOMES
from engine.rules.vocabulary import (
    ACTION_LABELS,
    CHALLENGE_KIND_LABELS,
    CHALLENGE_RESULT_LABELS,
    CHANGE_KEYS_HIDDEN,
    CHANGE_LABELS,
    CHANNEL_LABELS,
    CONFIDENTIALITY_LABELS,
    CONSULTATION_ANSWER_LABELS,
    CONSULTATION_KIND_LABELS,
    DELIVERY_LABELS,
    FEE_MODE_LABELS,
    LETTER_LABELS,
    REASON_ANSWER_LABELS,
    RETENTION_LABELS,
    REVIEW_STATE_LABELS,
    ROLE_LABELS,
    STAGE_LABELS,
    UPLOAD_KIND_LABELS,
)
from engine.services.casefile_package import (
    CASEFILE_PDF,
    FORMAT,
    ORIGINALS,
    CaseFile,
    CaseFileDocument,
    safe_filename,
    sha256_hex,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Archival order: the result letters first, then the application and what came with it, then the process.
RESULT_LETTERS = ("reply", "termination_notice")
APPLICATION_UPLOADS = ("application", "attachment", "supplement", "application_scan", "identity")
# How a recorded code reads in the process record, by the name it is recorded under.
VALUE_LABELS = {
    "channel": CHANNEL_LABELS, "method": DELIVERY_LABELS, "conclusion": CONFIDENTIALITY_LABELS,
    "retention": RETENTION_LABELS, "ruled_retention": RETENTION_LABELS, "answer": {**CONSULTATION_ANSWER_LABELS, **REASON_ANSWER_LABELS},
    "result": CHALLENGE_RESULT_LABELS, "state": REVIEW_STATE_LABELS,
    "kind": {**UPLOAD_KIND_LABELS, **CONSULTATION_KIND_LABELS, **CHALLENGE_KIND_LABELS},
    "type": LETTER_LABELS, "roles": ROLE_LABELS, "mode": FEE_MODE_LABELS,
}


def find_archived_case(session: Session, agency_id: int, reg_no: str) -> Case:
    """The case with this registration number in the agency; it must be archived to be exported."""
    case = session.scalar(select(Case).where(Case.agency_id == agency_id, Case.reg_no == reg_no.strip()))
    if case is None:
        raise NotFound(f"没有找到登记编号为「{reg_no}」的申请")
    return case


def ensure_archived(case: Case) -> None:
    """Only an archived case has a case file to export (档案移交、利用)."""
    if case.stage != "archived" or not case.archive_no:
        raise RuleViolation(f"案件 {case.reg_no} 尚未归档（当前阶段：{STAGE_LABELS.get(case.stage, case.stage)}），"
                            "不能导出案卷；请先由档案员归档")


def collect_case_file(session: Session, case: Case, *, exported_at: datetime) -> CaseFile:
    """The plain data of one archived case file (条例45), its originals checked against their stored hashes."""
    ensure_archived(case)
    ensure_letters_rendered(session, case)
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
        "files": [{**d.index_entry(), "kind": d.kind, "source_id": d.source_id,
                   "template_version": d.template_version,
                   **({"signed_with": d.signed_with} if d.signed_with else {})} for d in documents],
        "audit": audit,
        "archive_notes": [{"noted_on": n["noted_on"], "text": n["text"]} for n in notes],
    }
    return CaseFile(case_id=case.id, reg_no=case.reg_no, archive_no=case.archive_no, data=data,
                    documents=documents, manifest=manifest)


def ensure_letters_rendered(session: Session, case: Case) -> None:
    """A case file holds frozen originals only: a letter issued to be rendered after its action's commit and not
    rendered yet (正在生成) stops the export until it is."""
    pending = session.scalars(select(Letter).options(defer(Letter.pdf)).where(
        Letter.case_id == case.id, Letter.sha256 == "").order_by(Letter.id)).all()
    if pending:
        raise WorkflowError(f"案件 {case.reg_no} 的{_letter_reference(pending[0])}等 {len(pending)} 件文书正在生成，"
                            "生成后才能导出案卷，请稍后重试")


def archived_case_ids(session: Session, agency_id: int, year: int) -> list[int]:
    """Archived cases of a year (the year in the archive number: the finishing year, else the archiving year)."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    return list(session.scalars(
        select(Case.id).where(
            Case.agency_id == agency_id, Case.stage == "archived",
            or_(Case.finished_on.between(start, end),
                and_(Case.finished_on.is_(None), Case.archived_on.between(start, end))))
        .order_by(Case.reg_year, Case.reg_seq)))


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
    key_ids = {letter.signing_key_id for letter in letters if letter.signing_key_id}
    fingerprints = dict(session.execute(select(SigningKey.id, SigningKey.fingerprint_sha256)
                                        .where(SigningKey.id.in_(key_ids))).all()) if key_ids else {}
    delivered = _delivery_notes(session, case)
    result, application, process = [], [], []
    for letter in letters:
        _check_blob(case, _letter_reference(letter), letter.pdf, letter.sha256, letter.size_bytes)
        notes = []
        if letter.id in superseded_by:
            notes.append(f"已被{superseded_by[letter.id].doc_number or '新文书'}更正")
        if letter.supersedes_id:
            notes.append(f"更正：{letter.supersede_reason}")
        notes.extend(delivered.get(letter.id, []))
        live_result = letter.letter_type in RESULT_LETTERS and letter.id not in superseded_by
        doc = CaseFileDocument(
            part="result" if live_result else "process", kind="letter", source_id=letter.id, path="",
            title="", doc_number=letter.doc_number,
            author=agency.name, dated_on=letter.issued_on, content_type="application/pdf", sha256=letter.sha256,
            content=letter.pdf, letter_type=letter.letter_type, template_version=letter.template_version,
            note="；".join(notes), signed_with=fingerprints.get(letter.signing_key_id, ""))
        (result if live_result else process).append(doc)
    titles = _upload_titles(session, uploads, {letter.id: letter for letter in letters})
    for upload in uploads:
        title = titles[upload.id]
        _check_blob(case, f"{title}（{upload.filename}）", upload.content, upload.sha256, upload.size_bytes)
        is_application = upload.kind in APPLICATION_UPLOADS
        doc = CaseFileDocument(
            part="application" if is_application else "process", kind="upload", source_id=upload.id, path="",
            title=title, doc_number="",
            author=case.applicant.name if is_application else agency.name,
            dated_on=_local_date(upload.created_at), content_type=upload.content_type, sha256=upload.sha256,
            content=upload.content, note=f"上传人：{users.get(upload.uploaded_by_id, '')}",
            suffix=_upload_suffix(upload), original_name=upload.filename)
        (application if is_application else process).append(doc)
    process.sort(key=lambda d: (d.dated_on, d.kind != "letter", d.source_id))
    ordered = [*sorted(result, key=lambda d: (d.letter_type != "reply", d.dated_on)), *application, *process]
    for n, doc in enumerate(ordered, start=1):
        # A letter goes by its 文号: its title is the letter catalogue's, which the engine does not know.
        name = f"{doc.title}（{doc.original_name}）" if doc.kind == "upload" else \
            doc.doc_number or f"文书{doc.dated_on:%Y%m%d}"
        doc.path = f"{ORIGINALS}/{safe_filename(f'{n:02d}_{name}')}{doc.suffix}"
    return ordered


def _upload_titles(session: Session, uploads: list[Upload], letters: dict[int, Letter]) -> dict[int, str]:
    """Each upload's 题名 in the 卷内目录: what the document is (a 送达回证 names the letter it proves delivered),
    never its file name; a second document of the same title is numbered （2）, （3）…"""
    proofs = {upload_id: letters.get(letter_id) for upload_id, letter_id in session.execute(
        select(Delivery.proof_upload_id, Delivery.letter_id).where(
            Delivery.proof_upload_id.in_([u.id for u in uploads]))).all()} if uploads else {}
    titles, seen = {}, {}
    for upload in uploads:
        title = UPLOAD_KIND_LABELS.get(upload.kind, "材料")
        letter = proofs.get(upload.id)
        if upload.kind == "delivery_proof" and letter is not None:
            number = f"（{letter.doc_number}）" if letter.doc_number else ""
            title = f"{LETTER_LABELS.get(letter.letter_type, '文书')}{number}送达回证"
        seen[title] = seen.get(title, 0) + 1
        titles[upload.id] = title if seen[title] == 1 else f"{title}（{seen[title]}）"
    return titles


def _letter_reference(letter: Letter) -> str:
    """A letter named in a refusal without its title (which lives in the letter catalogue)."""
    if letter.doc_number:
        return f"文书（{letter.doc_number}）"
    return f"文书（{letter.issued_on.isoformat()} 出具，无文号）"


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
            text += f"，单号 {d.tracking_no}"  # spaces, not brackets, around numbers: the column wraps between them
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
        changes = dict(event.changes or {})
        # The letter's type goes to the renderer, which titles it from the letter catalogue.
        letter_type = changes.pop("type", "") if event.action == "issue_letter" else ""
        before = STAGE_LABELS.get(event.stage_before, event.stage_before or "")
        after = STAGE_LABELS.get(event.stage_after, event.stage_after or "")
        stages = after if before == after or not before else f"{before} → {after}"
        timeline.append({"seq": n, "event_seq": event.seq, "at": _local_time(event.occurred_at),
                         "actor": event.actor_name, "action": ACTION_LABELS.get(event.action, event.action),
                         "action_code": event.action, "stages": stages, "letter_type": letter_type,
                         "details": describe_changes(changes), "reason": event.reason})
    last = events[-1] if events else None
    audit = {"agency_head_seq": agency.audit_seq, "agency_head_hash": agency.audit_head_hash,
             "case_event_count": len(events), "case_last_seq": last.seq if last else None,
             "case_last_hash": last.hash if last else None}
    return timeline, audit


def describe_changes(changes: dict) -> str:
    """An audit event's data in one readable line: 标签：值；…"""
    parts = []
    for key, value in changes.items():
        if key in CHANGE_KEYS_HIDDEN:
            continue
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
    if key in ("report_outcome", "outcome", "ground") and value in OUTCOMES:
        return OUTCOMES[value].label
    return VALUE_LABELS.get(key, {}).get(value, str(value))


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
                    "review_state_label": REVIEW_STATE_LABELS.get(record.review_state, record.review_state),
                    "reviewer": users.get(record.reviewed_by_id, ""), "review_comment": record.review_comment,
                    "reviewed_at": _local_time(record.reviewed_at), "created_by": users.get(record.created_by_id, ""),
                    "created_at": _local_time(record.created_at)})
    return out
