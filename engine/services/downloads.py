"""Handing out a frozen letter or an uploaded file: only to its agency, and only if its bytes still match the hash
recorded when it was written (the row's SHA-256 and the one its audit event holds). A mismatch is refused and
logged — never served with the old hash in a header."""

from __future__ import annotations

import hashlib
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import IntegrityFailure, NotFound, WorkflowError
from engine.persistence.limits import MAX_ID
from engine.persistence.models import AuditEvent, Letter, Upload
from engine.services.common import load_case

log = logging.getLogger("gongkai.integrity")


def recorded_file_hash(session: Session, case_id: int, id_key: str, file_id: int) -> str | None:
    """The SHA-256 the case's latest audit event naming this file recorded (`letter_id` or `upload_id`)."""
    hashes_key = "letter_hashes" if id_key == "letter_id" else "upload_hashes"
    found = None
    for changes in session.scalars(select(AuditEvent.changes).where(AuditEvent.case_id == case_id)
                                   .order_by(AuditEvent.seq)):
        if not isinstance(changes, dict):
            continue
        if changes.get(id_key) == file_id and isinstance(changes.get("sha256"), str):
            found = changes["sha256"]
        elif isinstance(changes.get(hashes_key), dict) and str(file_id) in changes[hashes_key]:
            found = changes[hashes_key][str(file_id)]
    return found


def _check(session: Session, row, content: bytes, case_id: int, id_key: str, label: str, actor) -> None:
    actual = hashlib.sha256(content).hexdigest()
    recorded = recorded_file_hash(session, case_id, id_key, row.id)
    if actual == row.sha256 == recorded and len(content) == row.size_bytes:
        return
    log.error("integrity: %s #%s of case #%s refused to %s: bytes %s, row %s, audit %s", id_key, row.id, case_id,
              getattr(actor, "username", "?"), actual, row.sha256, recorded)
    raise IntegrityFailure(f"该{label}的内容与写入时记录的哈希不符，可能已被篡改，系统拒绝提供；"
                           "此事已记入日志，请联系管理员运行 gongkai audit verify 核查",
                           details={"id": row.id, "recorded_sha256": recorded})


def letter_for_download(session: Session, letter_id: int, actor, *, case_id: int | None = None) -> Letter:
    """A frozen letter of the actor's agency whose bytes still match its recorded hash; a letter still being
    rendered (正在生成) is refused as such, never handed out as empty bytes."""
    letter = session.get(Letter, letter_id) if 1 <= letter_id <= MAX_ID else None
    if letter is None or (case_id is not None and letter.case_id != case_id):
        raise NotFound("没有找到该文书")
    load_case(session, letter.case_id, actor)
    if not letter.sha256:  # issued, rendered after the commit (engine.services.issuing): never served empty
        raise WorkflowError("该文书正在生成，请稍后再下载", details={"letter_id": letter.id, "pending": True})
    _check(session, letter, letter.pdf, letter.case_id, "letter_id", "文书", actor)
    return letter


def upload_for_download(session: Session, upload_id: int, actor) -> Upload:
    """An uploaded file of the actor's agency whose bytes still match its recorded hash."""
    upload = session.get(Upload, upload_id) if 1 <= upload_id <= MAX_ID else None
    if upload is None:
        raise NotFound("没有找到该材料")
    load_case(session, upload.case_id, actor)
    _check(session, upload, upload.content, upload.case_id, "upload_id", "材料", actor)
    return upload
