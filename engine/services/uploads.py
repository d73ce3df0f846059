"""Uploaded files (application scans, supplements, delivery proofs): type-checked by their bytes, kept in the DB,
audited. Actions that come with a file attach it here in their own transaction."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from engine.errors import InvalidInput, PermissionDenied, WorkflowError
from engine.persistence.audit import record_event, utcnow
from engine.persistence.models import Case, Upload, User
from engine.rules.vocabulary import UPLOAD_KIND_LABELS, UPLOAD_KINDS_CHOOSABLE
from engine.services.common import load_case, use_case

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
UPLOAD_ROLES = ("clerk", "handler")
CONTENT_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png", "ofd": "application/ofd"}


@dataclass(frozen=True)
class UploadedFile:
    """A file as it arrived: its name and (at most MAX_UPLOAD_BYTES + 1 of) its bytes."""

    filename: str
    content: bytes


def sniff(content: bytes) -> str | None:
    """The file's real type from its first bytes: PDF, JPEG, PNG or OFD (a zip holding OFD.xml, GB/T 33190)."""
    if content.startswith(b"%PDF-"):
        return "pdf"
    if content.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                if any(name.lower() == "ofd.xml" for name in archive.namelist()):
                    return "ofd"
        except zipfile.BadZipFile:
            return None
    return None


def attach(session: Session, case: Case, file: UploadedFile | None, *, kind: str, actor: User) -> Upload | None:
    """Keep a file with the case (None when none was given); refuses other types and big files."""
    if file is None or not file.filename:
        return None
    if kind not in UPLOAD_KIND_LABELS:
        raise InvalidInput("材料类型无效")
    if case.stage == "archived":
        raise WorkflowError("案件已归档，只读，不能再上传材料")
    content = file.content
    if len(content) > MAX_UPLOAD_BYTES:
        raise InvalidInput("上传的文件过大（不超过 20 MB）")
    if not content:
        raise InvalidInput("上传的文件是空的")
    detected = sniff(content)
    if detected is None:
        raise InvalidInput("只能上传 PDF、JPEG、PNG 或 OFD 文件（按文件内容识别，不看扩展名）")
    filename = file.filename.replace("\\", "/").rsplit("/", 1)[-1][:200] or f"upload.{detected}"
    upload = Upload(case_id=case.id, kind=kind, filename=filename, content_type=CONTENT_TYPES[detected],
                    size_bytes=len(content), sha256=hashlib.sha256(content).hexdigest(), content=content,
                    uploaded_by_id=actor.id, created_at=utcnow())
    session.add(upload)
    session.flush()
    record_event(session, agency_id=case.agency_id, case_id=case.id, actor=actor, action="add_upload",
                 stage_before=case.stage, stage_after=case.stage,
                 changes={"upload_id": upload.id, "kind": kind, "filename": filename, "sha256": upload.sha256})
    return upload


@use_case
def upload_file(session: Session, case_id: int, *, file: UploadedFile | None, kind: str, actor: User,
                today: date) -> Upload:
    """上传材料 on the case page: any staff member of the agency, any open case."""
    case = load_case(session, case_id, actor)
    if not any(actor.has_role(role) for role in UPLOAD_ROLES):
        raise PermissionDenied("只有登记员或承办人可以上传材料")
    if kind not in UPLOAD_KINDS_CHOOSABLE:
        raise InvalidInput("材料类型无效")
    upload = attach(session, case, file, kind=kind, actor=actor)
    if upload is None:
        raise InvalidInput("请选择要上传的文件")
    return upload
