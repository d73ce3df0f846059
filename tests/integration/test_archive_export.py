"""Archival case files (案卷): a real archived case exported to a ZIP, re-opened and checked, then tampered with."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from datetime import UTC, date, datetime

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader
from sqlalchemy import select, update

from engine import services
from engine.errors import RuleViolation
from engine.persistence import db as dbmod
from engine.persistence.audit import verify_chain
from engine.persistence.models import Agency, AuditEvent, Case, Letter, Upload
from engine.services.archive_export import export_case, export_year
from engine.services.archiving import append_archive_note
from engine.services.casefile_collect import collect_case_file
from engine.services.casefile_package import CASEFILE_PDF, MANIFEST, SUMS, write_case_file
from engine.services.signing_keys import create_signing_key
from engine.services.uploads import UploadedFile
from tests.pdf_glyphs import handmade_pdf, notdef_uses
from webui.archive_export.rendering import casefile_renderer
from webui.archive_export.verify import verify_case_zip

from .helpers_cases import accept, decide_partial, register, review_and_sign

TODAY = date(2026, 3, 2)
EXPORTED_AT = datetime(2026, 4, 22, 2, 0, tzinfo=UTC)
RENDER = casefile_renderer()


def scan_png() -> bytes:
    """A small but real application scan: a white A4-ish page with some lines on it."""
    image = Image.new("RGB", (420, 594), "white")
    draw = ImageDraw.Draw(image)
    for y in range(60, 560, 24):
        draw.line((40, y, 380, y), fill=(30, 30, 30), width=2)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def make_archived_case(session, users, *, name: str = "张三", submitted_on: date = TODAY,
                       uploaded_pdf: bytes | None = None) -> Case:
    """register → accept → partial decision → review and sign → scan uploaded → posted → archived → a note."""
    case, _ = register(session, users, submitted_on, name=name)
    accept(session, users, case, submitted_on)
    decide_partial(session, users, case, submitted_on)
    review_and_sign(session, users, case, submitted_on)
    png = scan_png()
    uploads = [("申请书扫描件.png", "image/png", png)]
    if uploaded_pdf is not None:
        uploads.append(("申请人补充材料.pdf", "application/pdf", uploaded_pdf))
    for filename, content_type, content in uploads:
        session.add(Upload(case_id=case.id, kind="application", filename=filename, content_type=content_type,
                           size_bytes=len(content), sha256=hashlib.sha256(content).hexdigest(), content=content,
                           uploaded_by_id=users["clerk"].id,
                           created_at=datetime(submitted_on.year, submitted_on.month, submitted_on.day, 2, tzinfo=UTC)))
    services.record_delivery(session, case.id, method="POST", delivered_on=date(2026, 3, 4), tracking_no="EMS123",
                             proof=UploadedFile("01-receipt-1.png", png), actor=users["clerk"], today=date(2026, 3, 4))
    # Uploads are stamped with the wall clock; this one arrived on the day of the delivery it proves.
    session.execute(update(Upload).where(Upload.kind == "delivery_proof")
                    .values(created_at=datetime(2026, 3, 4, 2, tzinfo=UTC)))
    services.archive(session, case.id, actor=users["archivist"], today=date(2026, 3, 10))
    session.commit()
    append_archive_note(session, case.id, text="申请人于2026年4月20日申请行政复议，复议机关已受理。",
                        noted_on=date(2026, 4, 21), actor=users["archivist"], today=date(2026, 4, 21))
    session.commit()
    return case


@pytest.fixture(scope="module")
def exported(database_template, tmp_path_factory):
    """One archived case exported once for the read-only checks (its own database, so nothing leaks)."""
    from engine.rules.vocabulary import ROLES
    from engine.services.accounts import add_agency, add_department, add_user
    from tests.conftest import PASSWORD

    kind, where = database_template
    if kind != "sqlite":
        pytest.skip("the shared export runs on SQLite; the PostgreSQL run covers the per-test cases")
    folder = tmp_path_factory.mktemp("casefile")
    shutil.copy(where, folder / "db.sqlite3")
    engine = dbmod.make_engine(f"sqlite:///{folder / 'db.sqlite3'}")
    session = dbmod.session_factory(engine)()
    agency = add_agency(session, "TESTCITY", "测试市人民政府办公室", letter_no_prefix="测政办公开",
                        review_body="测试市人民政府", court="测试市中级人民法院", contact="测试市人民路1号 0571-12345678",
                        topics=["城乡规划"], settings={"seal_placeholder": True})
    add_department(session, agency, "规划科")
    create_signing_key(session, agency, now=EXPORTED_AT)
    session.commit()
    users = {role: add_user(session, agency, role, PASSWORD, [role], display_name=f"{role}用户") for role in ROLES}
    session.commit()
    case = make_archived_case(session, users)
    path = export_case(session, agency_id=agency.id, reg_no=case.reg_no, out_dir=folder / "out", renderer=RENDER,
                       exported_at=EXPORTED_AT)
    letter = session.scalar(select(Letter).where(Letter.case_id == case.id, Letter.letter_type == "reply"))
    last_event = session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id)
                                .order_by(AuditEvent.seq.desc()).limit(1))
    session.refresh(agency)
    facts = {"path": path, "reg_no": case.reg_no, "archive_no": case.archive_no, "letter_pdf": letter.pdf,
             "letter_sha256": letter.sha256, "letter_number": letter.doc_number, "case_last_hash": last_event.hash,
             "agency_head_hash": agency.audit_head_hash}
    session.close()
    engine.dispose()
    return facts


def members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def pdf_text(pdf: bytes) -> list[str]:
    """Each page's text without line breaks and spaces (titles wrap in cells; headings are letter-spaced)."""
    return [page.extract_text().replace("\n", "").replace(" ", "") for page in PdfReader(io.BytesIO(pdf)).pages]


def test_the_zip_is_named_by_the_archive_number_and_holds_pdf_originals_manifest_and_sums(exported):
    assert exported["path"].name == exported["archive_no"] + ".zip"
    names = set(members(exported["path"]))
    assert {CASEFILE_PDF, MANIFEST, SUMS} <= names
    originals = sorted(n for n in names if n.startswith("原件/"))
    assert originals[0] == f"原件/01_{exported['letter_number']}.pdf"  # a letter goes by its 文号
    assert originals[1].endswith(".png")


def test_the_signed_letter_is_in_the_zip_byte_for_byte_with_its_stored_hash(exported):
    files = members(exported["path"])
    letter_entry = next(n for n in files if n.startswith("原件/01_"))
    assert files[letter_entry] == exported["letter_pdf"]
    assert hashlib.sha256(files[letter_entry]).hexdigest() == exported["letter_sha256"]
    manifest = json.loads(files[MANIFEST])
    assert manifest["files"][0]["sha256"] == exported["letter_sha256"]
    assert manifest["files"][0]["template_version"]
    assert manifest["files"][0]["letter_type"] == "reply"


def test_sha256sums_lists_every_file_in_sha256sum_format(exported, tmp_path):
    with zipfile.ZipFile(exported["path"]) as archive:
        archive.extractall(tmp_path)
    checked = subprocess.run(["sha256sum", "-c", SUMS], cwd=tmp_path, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count(": OK") == len(members(exported["path"])) - 1


def test_the_manifest_carries_the_case_metadata_and_the_audit_chain_hashes(exported):
    manifest = json.loads(members(exported["path"])[MANIFEST])
    assert manifest["case"]["reg_no"] == exported["reg_no"]
    assert manifest["case"]["archive_no"] == exported["archive_no"]
    assert manifest["case"]["retention"] == "Y30"
    assert manifest["audit"]["case_last_hash"] == exported["case_last_hash"]
    assert manifest["audit"]["agency_head_hash"] == exported["agency_head_hash"]
    assert manifest["exported_at"] == "2026-04-22T10:00:00+08:00"
    assert manifest["archive_notes"][0]["text"].startswith("申请人于2026年4月20日申请行政复议")


def test_the_case_file_pdf_has_the_cover_the_index_and_the_backmatter(exported):
    pages = pdf_text(members(exported["path"])[CASEFILE_PDF])
    cover, index = pages[0], pages[1]
    for expected in ("案卷", "测试市人民政府办公室", exported["archive_no"], "定期30年", "2026年3月2日至2026年3月10日",
                     "政府信息公开申请的办理案卷", "张三"):
        assert expected in cover, expected
    assert "卷内目录" in index
    for expected in (exported["letter_number"], "政府信息公开申请答复书", "政府信息公开申请书", "办理过程记录",
                     "20260302"):
        assert expected in index, expected
    everything = "\n".join(pages)
    for expected in ("政府信息公开申请登记表", "办理过程记录", "不予公开理由审查记录", "卷内备考表",
                     "申请人于2026年4月20日申请行政复议", "签发答复书", "归档",
                     "出具文书", "政府信息公开申请答复书；文书编号"):
        assert expected in everything, expected


def test_the_index_page_numbers_are_the_final_page_numbers(exported):
    pages = pdf_text(members(exported["path"])[CASEFILE_PDF])
    reply_at = next(n for n, text in enumerate(pages, start=1) if "政府信息公开申请答复书" in text and "张三：" in text)
    scan_at = reply_at + len(PdfReader(io.BytesIO(exported["letter_pdf"])).pages)
    header = f"档号：{exported['archive_no']}"  # the running header of the generated pages

    def opening(title: str) -> int:
        return next(n for n, text in enumerate(pages, start=1) if text.removeprefix(header).startswith(title))

    form_at, record_at, notes_at = opening("政府信息公开申请登记表"), opening("办理过程记录"), opening("卷内备考表")
    index = pages[1]
    # Each row reads 题名, 日期 (8 digits), 页号 (its first page in this PDF), 备注.
    assert reply_at == 3  # cover, one index page, then the reply
    assert f"政府信息公开申请答复书20260302{reply_at}邮寄送达" in index  # titled as the letter is
    assert f"政府信息公开申请书20260302{scan_at}上传人" in index  # the document's title, not its file name
    assert ".png" not in index and "Asia/Shanghai" not in "".join(pages)
    # A 送达回证 is titled by the letter it proves delivered; its 备注 keeps the tracking number whole.
    assert f"答复书（{exported['letter_number']}）送达回证" in index
    assert "邮寄送达2026-03-04，单号EMS123" in index
    assert f"政府信息公开申请登记表20260302{form_at}系统生成" in index
    assert f"办理过程记录（审计轨迹）20260310{record_at}系统生成" in index
    assert f"本卷共{len(pages)}页" in index and f"共{len(pages)}页" in pages[0]
    assert f"第{notes_at}页" in pages[notes_at - 1]
    assert len(pages) == notes_at  # the 备考表 closes the file


def test_the_case_file_pdf_is_pdfa_3b_with_fonts_embedded_and_the_manifest_attached(exported, tmp_path):
    files = members(exported["path"])
    reader = PdfReader(io.BytesIO(files[CASEFILE_PDF]))
    xmp = reader.xmp_metadata
    assert xmp is not None
    raw = xmp.stream.get_data().decode()
    assert "pdfaid:part" in raw and ("<pdfaid:part>3</pdfaid:part>" in raw or 'pdfaid:part="3"' in raw)
    assert "<pdfaid:conformance>B</pdfaid:conformance>" in raw or 'pdfaid:conformance="B"' in raw
    root = reader.trailer["/Root"]
    assert "/OutputIntents" in root
    spec = root["/AF"][0].get_object()
    assert spec["/AFRelationship"] == "/Data"
    assert reader.attachments[MANIFEST][0] == files[MANIFEST]
    (tmp_path / "case.pdf").write_bytes(files[CASEFILE_PDF])
    fonts = subprocess.run(["pdffonts", str(tmp_path / "case.pdf")], capture_output=True, text=True, check=True)
    rows = fonts.stdout.splitlines()[2:]
    assert rows and all(row.split()[-5] == "yes" for row in rows), fonts.stdout


def test_an_untouched_case_file_verifies(exported):
    assert verify_case_zip(exported["path"]) == []


def _rewrite(source, target, change):
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            new.writestr(info, change(info.filename, old.read(info)))


def test_changing_one_original_makes_verify_name_it(exported, tmp_path):
    tampered = tmp_path / "tampered.zip"
    _rewrite(exported["path"], tampered,
             lambda name, data: data.replace(b"%%EOF", b"%%EOF\n% edited") if name.startswith("原件/01_") else data)
    problems = verify_case_zip(tampered)
    assert problems
    assert any("原件/01_" in p and "SHA256SUMS" in p for p in problems)
    assert any("原件/01_" in p and "manifest.json" in p for p in problems)


def test_a_manifest_that_no_longer_matches_the_embedded_one_is_reported(exported, tmp_path):
    tampered = tmp_path / "manifest.zip"

    def change(name, data):
        if name == MANIFEST:
            return data.replace("定期30年".encode(), "定期10年".encode())
        if name == SUMS:  # even a tamperer who fixes SHA256SUMS is caught by the PDF's own copy
            manifest = members(exported["path"])[MANIFEST].replace("定期30年".encode(), "定期10年".encode())
            lines = [line for line in data.decode().splitlines() if not line.endswith(MANIFEST)]
            lines.append(f"{hashlib.sha256(manifest).hexdigest()}  {MANIFEST}")
            return ("\n".join(lines) + "\n").encode()
        return data

    _rewrite(exported["path"], tampered, change)
    assert verify_case_zip(tampered) == ["案卷.pdf 内嵌的 manifest.json 与案卷包中的 manifest.json 不一致"]


def test_an_extra_or_missing_file_is_reported(exported, tmp_path):
    extra = tmp_path / "extra.zip"
    shutil.copy(exported["path"], extra)
    with zipfile.ZipFile(extra, "a") as archive:
        archive.writestr("原件/99_补充.pdf", b"%PDF-1.7 not really")
    problems = verify_case_zip(extra)
    assert any("原件/99_补充.pdf" in p and "SHA256SUMS" in p for p in problems)
    missing = tmp_path / "missing.zip"
    with zipfile.ZipFile(exported["path"]) as old, zipfile.ZipFile(missing, "w") as new:
        for info in old.infolist():
            if not info.filename.endswith(".png"):
                new.writestr(info, old.read(info))
    assert any(".png" in p and "不在案卷包中" in p for p in verify_case_zip(missing))


# ---------------------------------------------------------------- refusals (per-test database)

def leftovers(folder) -> list[str]:
    """Whatever an export left in its target folder (temporary files included)."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []

def test_a_case_that_is_not_archived_is_refused_and_nothing_is_written(session, agency, users, tmp_path):
    out = tmp_path / "out"
    case, _ = register(session, users, TODAY)
    with pytest.raises(RuleViolation, match=r"依申请〔2026〕1号 尚未归档"):
        export_case(session, agency_id=agency.id, reg_no=case.reg_no, out_dir=out, renderer=RENDER)
    assert leftovers(out) == []


def test_a_corrupted_stored_letter_stops_the_export_naming_the_case_and_the_file(session, agency, users, tmp_path):
    out = tmp_path / "out"
    case = make_archived_case(session, users)
    letter = session.scalar(select(Letter).where(Letter.case_id == case.id, Letter.letter_type == "reply"))
    session.execute(update(Letter).where(Letter.id == letter.id).values(pdf=letter.pdf[:-10] + b"tampered!\n"))
    session.commit()
    session.expire_all()
    with pytest.raises(RuleViolation) as refused:
        export_case(session, agency_id=agency.id, reg_no=case.reg_no, out_dir=out, renderer=RENDER)
    assert case.reg_no in refused.value.message
    assert f"文书（{letter.doc_number}）" in refused.value.message
    assert "已损坏" in refused.value.message
    assert leftovers(out) == []


def test_a_missing_upload_blob_is_refused_naming_the_file(session, agency, users, tmp_path):
    out = tmp_path / "out"
    case = make_archived_case(session, users)
    session.execute(update(Upload).where(Upload.case_id == case.id).values(content=b""))
    session.commit()
    session.expire_all()
    with pytest.raises(RuleViolation, match="申请书扫描件.png.*缺少原件内容"):
        export_case(session, agency_id=agency.id, reg_no=case.reg_no, out_dir=out, renderer=RENDER)
    assert leftovers(out) == []


def test_a_render_that_fails_halfway_leaves_no_partial_zip(session, agency, users, tmp_path):
    out = tmp_path / "out"
    case = make_archived_case(session, users)
    case_file = collect_case_file(session, case, exported_at=EXPORTED_AT)

    def broken(data, contents, *, manifest):
        raise RuntimeError("字体文件不存在")

    with pytest.raises(RuleViolation, match="案卷 PDF 无法生成"):
        write_case_file(case_file, out, broken)

    class Exploding:
        pdf = b"%PDF-1.7"
        page_count = 1

    original = case_file.documents[0].content
    case_file.documents[0].content = _ExplodingBytes(original)
    with pytest.raises(RuntimeError):
        write_case_file(case_file, out, lambda data, contents, *, manifest: Exploding())
    assert leftovers(out) == []


class _ExplodingBytes(bytes):
    """Bytes that fail when the ZIP writer reads them, after the ZIP file has been opened."""

    def __len__(self):
        raise RuntimeError("磁盘已满")


def test_bulk_export_writes_one_zip_per_case_and_keeps_the_session_empty(session, agency, users, tmp_path):
    out = tmp_path / "out"
    first = make_archived_case(session, users, name="张三")
    second = make_archived_case(session, users, name="李四")
    results = list(export_year(session, agency_id=agency.id, year=2026, out_dir=out, renderer=RENDER,
                               exported_at=EXPORTED_AT))
    assert [r.error for r in results] == [None, None]
    assert [r.reg_no for r in results] == [first.reg_no, second.reg_no]
    assert leftovers(out) == sorted(r.path.name for r in results)
    assert len(session.identity_map) == 0
    assert all(verify_case_zip(r.path) == [] for r in results)
    agency_row = session.get(Agency, agency.id)
    assert verify_chain(session, agency_row) is None


# ---------------------------------------------------------------- uploaded PDFs and PDF/A

NOT_PDFA_UPLOAD = handmade_pdf(b"BT /F1 24 Tf 72 720 Td (Supplement from the applicant) Tj ET")  # Helvetica, not embedded


def pdffonts(pdf: bytes) -> list[str]:
    out = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True).stdout
    return out.decode().splitlines()[2:]


def test_an_uploaded_pdf_that_is_not_pdfa_is_converted_before_it_goes_into_the_case_file(session, agency, users,
                                                                                       tmp_path):
    assert any(row.split()[-5] == "no" for row in pdffonts(NOT_PDFA_UPLOAD))  # the upload's font is not embedded
    case = make_archived_case(session, users, uploaded_pdf=NOT_PDFA_UPLOAD)
    path = export_case(session, agency_id=agency.id, reg_no=case.reg_no, out_dir=tmp_path, renderer=RENDER,
                       exported_at=EXPORTED_AT)
    files = members(path)
    pdf = files[CASEFILE_PDF]
    rows = pdffonts(pdf)
    assert any("Helvetica" in row for row in rows) and all(row.split()[-5] == "yes" for row in rows), rows
    raw = PdfReader(io.BytesIO(pdf)).xmp_metadata.stream.get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in raw
    assert notdef_uses(pdf) == []
    pages = pdf_text(pdf)
    assert any("Supplementfromtheapplicant" in page for page in pages)
    assert "已转换为PDF/A编入" in pages[1]
    assert any("编入本案卷PDF时已转换为PDF/A" in page for page in pages)
    original = next(content for name, content in files.items() if "申请人补充材料.pdf" in name)
    assert original == NOT_PDFA_UPLOAD  # the original stays byte for byte in the package
    assert verify_case_zip(path) == []


def test_where_conversion_fails_the_case_file_stops_declaring_pdfa_and_says_which_upload(session, agency, users,
                                                                                        tmp_path, monkeypatch):
    monkeypatch.setenv("GONGKAI_GHOSTSCRIPT", str(tmp_path / "no-ghostscript-here"))
    case = make_archived_case(session, users, uploaded_pdf=NOT_PDFA_UPLOAD)
    path = export_case(session, agency_id=agency.id, reg_no=case.reg_no, out_dir=tmp_path, renderer=RENDER,
                       exported_at=EXPORTED_AT)
    pdf = members(path)[CASEFILE_PDF]
    reader = PdfReader(io.BytesIO(pdf))
    raw = reader.xmp_metadata.stream.get_data().decode()
    assert "pdfaid" not in raw  # no claim at all, rather than a false one
    assert "不声明 PDF/A 符合性" in reader.metadata["/Subject"] and "申请人补充材料.pdf" in reader.metadata["/Subject"]
    assert "申请人补充材料.pdf" in raw and "Ghostscript" in raw
    pages = pdf_text(pdf)
    assert "未能转换为PDF/A，照原样编入" in pages[1]
    assert any("本案卷PDF因此不声明符合PDF/A" in page for page in pages)
    assert verify_case_zip(path) == []
