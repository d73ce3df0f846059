"""The case-file package (案卷包, 条例45 归档): a ZIP named by the archive number (档号) that stands on its own.

It holds 案卷.pdf (rendered by an injected renderer, with manifest.json embedded), the original documents
byte for byte under 原件/, manifest.json (case metadata, every file's SHA-256 and size, the audit chain's
hashes) and SHA256SUMS. This module defines that layout and writes it; it reads no database and parses
no PDF (reading a package back is `webui.archive_export.verify`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from engine.errors import GongkaiError, RuleViolation

FORMAT = "gongkai-casefile/1"
CASEFILE_PDF = "案卷.pdf"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
ORIGINALS = "原件"
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


class RenderedCaseFileLike(Protocol):
    pdf: bytes
    page_count: int


class CaseFileRenderer(Protocol):
    """Renders 案卷.pdf from the case file's plain data, its documents' bytes and the manifest to embed."""

    def __call__(self, data: dict, contents: list[bytes], *, manifest: bytes) -> RenderedCaseFileLike: ...


@dataclass
class CaseFileDocument:
    """One original document of the case file, in archival order, with the bytes that go into the ZIP.

    A letter carries its type and no title: titles are the letter catalogue's (`letters.catalogue`), looked
    up where the 卷内目录 is set, so the index names each letter exactly as the letter itself does."""

    part: str            # "result" | "application" | "process"
    kind: str            # "letter" | "upload"
    source_id: int
    path: str            # inside the ZIP
    title: str           # of an upload; "" for a letter
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
    signed_with: str = ""  # SHA-256 fingerprint of the certificate whose PAdES signature the letter carries
    original_name: str = ""  # an upload's file name as uploaded: kept in its path in the package, not in its 题名

    def index_entry(self) -> dict:
        return {"part": self.part, "path": self.path, "title": self.title, "letter_type": self.letter_type,
                "doc_number": self.doc_number, "author": self.author, "dated_on": self.dated_on.isoformat(),
                "content_type": self.content_type, "sha256": self.sha256, "size_bytes": len(self.content),
                "note": self.note}


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


def safe_filename(text: str) -> str:
    """A file name from a number or title: no path separators or characters Windows refuses."""
    cleaned = _UNSAFE.sub("_", text).strip(" .")
    return cleaned[:120] or "未命名"


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


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
