"""Signed letters (DESIGN §7, Signatures): the agency's identity imported or self-issued and encrypted at rest, a PAdES
signature on the reply at 签发 (and on every letter once the agency has a key) that our verifier and Poppler's pdfsig
accept, that one flipped byte breaks, that keeps PDF/A-3b, and that the case-file package still checks."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pypdf import PdfReader
from sqlalchemy import select, text

from engine import services
from engine.errors import InvalidInput, RuleViolation
from engine.persistence.audit import utcnow
from engine.persistence.models import Letter, SigningKey
from engine.services.accounts import add_agency
from engine.services.signing_keys import (
    SELF_ISSUED_LABEL,
    active_signing_key,
    create_signing_key,
    import_signing_key,
    signing_request,
)
from letters.signing import verify_pdf

from .helpers_cases import accept, decide_disclosed, register, render, review_and_sign

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
P12_PASSWORD = b"p12-password-1"


def pkcs12_file(organization: str, *, key=None, not_after: datetime | None = None,
                password: bytes = P12_PASSWORD) -> bytes:
    """A PKCS#12 as an agency's CA would issue it: an RSA key and its certificate (issued here by a test CA)."""
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "测试电子认证服务机构")])
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                         x509.NameAttribute(NameOID.COMMON_NAME, f"{organization} 公开文书签名")])
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(NOW - timedelta(days=30))
                   .not_valid_after(not_after or NOW + timedelta(days=365)).sign(ca_key, hashes.SHA256()))
    return pkcs12.serialize_key_and_certificates(
        b"agency", key, certificate, None, serialization.BestAvailableEncryption(password))


def _pdfsig(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout


def _flip_one_byte(pdf: bytes) -> bytes:
    """Change one byte inside the signed range (a digit of the page content's compressed stream)."""
    damaged = bytearray(pdf)
    position = len(pdf) // 3
    damaged[position] ^= 0x01
    return bytes(damaged)


def _signed_reply(session, users, today) -> Letter:
    case, _ = register(session, users, today)
    accept(session, users, case, today)
    decide_disclosed(session, users, case, today)
    return review_and_sign(session, users, case, today)


# ---------------------------------------------------------------------------------------------- identities

def test_an_imported_pkcs12_becomes_the_agency_key_and_its_private_key_is_stored_encrypted(session, agency, users):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    row = import_signing_key(session, agency, pkcs12_file(agency.name, key=key), P12_PASSWORD, now=NOW)
    session.commit()
    assert active_signing_key(session, agency.id).id == row.id
    assert not row.self_issued and "公开文书签名" in row.subject
    private_der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    stored = session.execute(text("SELECT encrypted_private_key FROM signing_keys WHERE id = :id"),
                             {"id": row.id}).scalar_one()
    # At rest: neither the key nor any long run of it is in the row; it decrypts only through the service.
    assert private_der not in bytes(stored) and private_der[-64:] not in bytes(stored)
    assert len(bytes(stored)) == len(private_der) + 12 + 16  # nonce + AES-GCM ciphertext and tag
    _, request = signing_request(session, agency, users["legal_reviewer"], signs_reply=True, now=NOW,
                                 today=NOW.date())
    assert request.private_key_der == private_der
    # The fixture's self-issued key was retired, not deleted: old letters still name it.
    retired = session.scalars(select(SigningKey).where(SigningKey.agency_id == agency.id,
                                                       SigningKey.retired_at.is_not(None))).all()
    assert len(retired) == 1 and retired[0].self_issued


@pytest.mark.parametrize(("make", "message"), [
    (lambda name: pkcs12_file(name, password=b"another-password"), "密码错误"),
    (lambda name: b"not a pkcs12 file at all", "不是 PKCS#12"),
    (lambda name: pkcs12.serialize_key_and_certificates(
        b"k", rsa.generate_private_key(public_exponent=65537, key_size=2048), None, None,
        serialization.BestAvailableEncryption(P12_PASSWORD)), "没有私钥和证书"),
    (lambda name: pkcs12_file(name, not_after=NOW - timedelta(days=1)), "不在有效期内"),
    (lambda name: pkcs12_file(name, key=rsa.generate_private_key(public_exponent=65537, key_size=1024)), "2048"),
])
def test_a_bad_pkcs12_is_refused_in_chinese_and_the_current_key_stays(session, agency, make, message):
    before = active_signing_key(session, agency.id).id
    with pytest.raises(InvalidInput, match=message):
        import_signing_key(session, agency, make(agency.name), P12_PASSWORD, now=NOW)
    assert active_signing_key(session, agency.id).id == before


def test_a_self_issued_key_says_in_its_certificate_that_nobody_outside_trusts_it(session, agency):
    row = create_signing_key(session, agency, now=NOW)
    certificate = x509.load_der_x509_certificate(row.certificate_der)
    units = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    assert units[0].value == SELF_ISSUED_LABEL and "不受外部信任" in row.subject
    assert certificate.issuer == certificate.subject and row.self_issued
    assert row.fingerprint_sha256 == hashlib.sha256(row.certificate_der).hexdigest()


@pytest.fixture
def settings_env(monkeypatch):
    """Change the environment the settings are read from; afterwards restore it and forget what was read."""
    from engine.config import load_settings

    load_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    load_settings.cache_clear()


def test_a_key_encrypted_under_another_secret_is_refused_with_a_clear_message(session, agency, users, settings_env):
    settings_env.setenv("GONGKAI_SIGNING_KEY_SECRET", "another-configured-secret")
    with pytest.raises(RuleViolation, match="GONGKAI_SIGNING_KEY_SECRET"):
        signing_request(session, agency, users["legal_reviewer"], signs_reply=True, now=utcnow(), today=NOW.date())


def test_production_without_a_configured_secret_refuses_to_store_a_key(session, agency, settings_env):
    settings_env.setenv("GONGKAI_PRODUCTION", "1")
    settings_env.delenv("GONGKAI_SIGNING_KEY_SECRET", raising=False)
    with pytest.raises(RuleViolation, match="生产环境必须配置"):
        create_signing_key(session, agency, now=NOW)


def test_the_embedded_setup_generates_one_secret_under_var_and_keeps_using_it(session, agency, settings_env,
                                                                              tmp_path, users):
    settings_env.delenv("GONGKAI_SIGNING_KEY_SECRET", raising=False)
    settings_env.setenv("GONGKAI_VAR_DIR", str(tmp_path / "var"))
    from engine.config import load_settings

    load_settings.cache_clear()  # the users fixture's audit events read the settings before the change
    create_signing_key(session, agency, now=utcnow())
    secret_file = tmp_path / "var" / "signing_key_secret"
    assert secret_file.stat().st_mode & 0o777 == 0o600 and len(secret_file.read_text()) == 64
    assert sorted(p.name for p in secret_file.parent.iterdir()) == ["signing_key_secret"]
    _, request = signing_request(session, agency, users["legal_reviewer"], signs_reply=True, now=utcnow(),
                                 today=NOW.date())
    assert request.private_key_der


# ---------------------------------------------------------------------------------------------- signing

def test_the_reply_signed_at_qianfa_carries_a_pades_signature_that_verifies_and_is_what_is_frozen(
        session, agency, users, today, tmp_path):
    letter = _signed_reply(session, users, today)
    key = active_signing_key(session, agency.id)
    assert letter.signing_key_id == key.id
    assert letter.sha256 == hashlib.sha256(letter.pdf).hexdigest() and letter.size_bytes == len(letter.pdf)
    result = verify_pdf(letter.pdf)
    assert result.ok, result
    (signature,) = result.signatures
    assert signature.certificate.fingerprint_sha256 == key.fingerprint_sha256
    assert signature.covers_whole_file and not signature.modified_after_signing
    assert "答复书" in signature.reason and letter.doc_number in signature.reason
    # PAdES baseline: ETSI.CAdES.detached, and Poppler says the document's integrity holds.
    report = _pdfsig(letter.pdf, tmp_path)
    assert "Signature Type: ETSI.CAdES.detached" in report
    assert "Signature Validation: Signature is Valid." in report
    assert "Total document signed" in report


def test_one_flipped_byte_breaks_the_signature_for_us_and_for_pdfsig(session, users, today, tmp_path):
    letter = _signed_reply(session, users, today)
    damaged = _flip_one_byte(letter.pdf)
    result = verify_pdf(damaged)
    assert not result.ok
    assert "Signature is Valid." not in _pdfsig(damaged, tmp_path)


def test_a_signed_letter_keeps_its_pdfa_3b_identification_fonts_and_text(session, users, today):
    letter = _signed_reply(session, users, today)
    reader = PdfReader(io.BytesIO(letter.pdf))
    assert reader.xmp_metadata.pdfaid_part == "3" and reader.xmp_metadata.pdfaid_conformance == "B"
    root = reader.trailer["/Root"]
    assert root["/OutputIntents"][0]["/S"] == "/GTS_PDFA1"
    text_of_pages = "".join(page.extract_text() for page in reader.pages)
    assert "答复" in text_of_pages and letter.doc_number in text_of_pages
    # The signature is an incremental update: the PDF/A revision WeasyPrint wrote is intact underneath.
    assert letter.pdf.count(b"%%EOF") == 2
    widget = next(annotation.get_object() for page in reader.pages for annotation in page.get("/Annots", [])
                  if annotation.get_object().get("/FT") == "/Sig")
    assert int(widget["/F"]) & 4  # PDF/A: a visible annotation must print
    assert "/N" in widget["/AP"]


def test_the_visible_signature_stands_at_the_seal_position_on_the_last_page(session, users, today):
    letter = _signed_reply(session, users, today)
    reader = PdfReader(io.BytesIO(letter.pdf))
    page_index, widget = next((n, a.get_object()) for n, page in enumerate(reader.pages)
                              for a in page.get("/Annots", []) if a.get_object().get("/FT") == "/Sig")
    assert page_index == len(reader.pages) - 1
    x0, y0, x1, y1 = (float(v) for v in widget["/Rect"])
    mm = 72 / 25.4
    # GB/T 9704: the seal is about 42 mm wide, in the right half of the type area (28 mm left margin, 156 mm wide).
    assert 40 * mm < x1 - x0 < 44 * mm
    assert 28 * mm + 156 * mm / 2 < (x0 + x1) / 2 < 28 * mm + 156 * mm


def test_signing_is_refused_when_the_agency_has_no_signing_key(session, users, today):
    case, _ = register(session, users, today)
    accept(session, users, case, today)
    decide_disclosed(session, users, case, today)
    session.execute(text("UPDATE signing_keys SET retired_at = created_at"))
    session.commit()
    services.submit_for_review(session, case.id, actor=users["handler"], today=today)
    session.commit()
    with pytest.raises(RuleViolation, match="尚未配置文书签名证书"):
        services.sign_reply(session, case.id, renderer=render, actor=users["legal_reviewer"], today=today)


def test_every_letter_is_signed_once_the_agency_has_a_key_and_none_without_one(session, users, today, agency):
    case, _ = register(session, users, today)
    receipt = session.scalar(select(Letter).where(Letter.case_id == case.id, Letter.letter_type == "receipt"))
    assert receipt.signing_key_id is not None and verify_pdf(receipt.pdf).ok
    other = add_agency(session, "NOKEY", "无证书机关", review_body="某市人民政府", court="某市中级人民法院")
    session.commit()
    assert active_signing_key(session, other.id) is None


def test_a_correction_is_signed_too(session, users, today):
    letter = _signed_reply(session, users, today)
    corrected = services.supersede_letter(session, letter.case_id, letter_id=letter.id, reason="更正申请人姓名",
                                          corrections={"recipient": "张叁"}, renderer=render,
                                          actor=users["legal_reviewer"], today=today).letter
    assert corrected.signing_key_id is not None and verify_pdf(corrected.pdf).ok


# ---------------------------------------------------------------------------------------------- case file

def test_archive_verify_names_a_signed_letter_whose_signature_was_tampered_with(session, users, today, tmp_path):
    from engine.persistence.models import Case
    from engine.services.archive_export import export_case
    from engine.services.casefile_package import CASEFILE_PDF, MANIFEST, SUMS, sha256_hex
    from webui.archive_export.rendering import casefile_renderer
    from webui.archive_export.verify import verify_case_zip

    letter = _signed_reply(session, users, today)
    services.record_delivery(session, letter.case_id, method="POST", delivered_on=today, actor=users["clerk"],
                             today=today)
    services.archive(session, letter.case_id, actor=users["archivist"], today=today)
    session.commit()
    case = session.get(Case, letter.case_id)
    path = export_case(session, agency_id=case.agency_id, reg_no=case.reg_no, out_dir=tmp_path / "out",
                       renderer=casefile_renderer())
    assert verify_case_zip(path) == []
    with zipfile.ZipFile(path) as archive:
        contents = {info.filename: archive.read(info) for info in archive.infolist()}
    # Byte for byte: the package holds exactly the frozen, signed letter.
    reply_name = next(name for name, content in contents.items() if content == letter.pdf)
    assert f'"signed_with": "{active_signing_key(session, case.agency_id).fingerprint_sha256}"' in \
        contents[MANIFEST].decode()
    assert verify_pdf(contents[reply_name]).ok
    # 案卷.pdf shows the signature's appearance as part of the page and carries no copied, broken signature field.
    casefile = PdfReader(io.BytesIO(contents[CASEFILE_PDF]))
    assert not [a for page in casefile.pages for a in page.get("/Annots", []) or []
                if a.get_object().get("/FT") == "/Sig"]
    assert "电子签名" not in "".join(page.extract_text() for page in casefile.pages)  # drawn as outlines
    assert any(b"GongkaiSignature" in page.get_contents().get_data() for page in casefile.pages)
    assert "does not contain any signatures" in _pdfsig(contents[CASEFILE_PDF], tmp_path)
    # An insider alters the letter and recomputes every hash the package lists: the signature still names it.
    tampered = _flip_one_byte(letter.pdf)
    contents[reply_name] = tampered
    contents[MANIFEST] = contents[MANIFEST].decode().replace(letter.sha256, sha256_hex(tampered)).encode()
    contents[SUMS] = "".join(f"{sha256_hex(content)}  {name}\n" for name, content in contents.items()
                             if name != SUMS).encode()
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(forged, "w") as archive:
        for name, content in contents.items():
            archive.writestr(name, content)
    problems = verify_case_zip(forged)
    assert any(re.search(f"原件「{re.escape(reply_name)}」的电子签名无效", p) for p in problems), problems


def test_pdfsig_is_installed_for_these_checks():
    assert shutil.which("pdfsig"), "poppler-utils (pdfsig) is installed by scripts/install-system-deps.sh"
