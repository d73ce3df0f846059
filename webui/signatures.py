"""Signature verification for people: `gongkai letter verify` and the clerks' page (upload a PDF, or check a letter
on its case page). The PDF's own word (letters.signing) plus this system's registry of agency certificates."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from engine import services
from engine.persistence.models import Letter
from engine.services.signing_keys import RegisteredSigner, registered_signer
from webui import db
from webui.api.schemas import MAX_ID
from webui.localtime import in_shanghai

bp = Blueprint("signatures", __name__)
MAX_VERIFY_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class SignatureLine:
    """One signature as a person reads it."""

    ok: bool
    verdict: str
    agency: str
    subject: str
    fingerprint: str
    signed_at: str
    changed_after: str
    reason: str
    trust: str


@dataclass(frozen=True)
class SignatureReport:
    ok: bool
    summary: str
    signatures: tuple[SignatureLine, ...]


def check(pdf: bytes, session) -> SignatureReport:
    """Verify `pdf` and name each signer by this system's registry when the certificate is registered here."""
    return _report(pdf, lambda fingerprint: registered_signer(session, fingerprint))


def check_without_registry(pdf: bytes) -> SignatureReport:
    """Verify `pdf` from its own content only (the database could not be reached)."""
    return _report(pdf, lambda _fingerprint: None)


def _report(pdf: bytes, lookup) -> SignatureReport:
    from letters.signing import verify_pdf

    result = verify_pdf(pdf)
    if result.problem:
        return SignatureReport(False, f"签名无效：{result.problem}", ())
    lines = tuple(_line(s, lookup(s.certificate.fingerprint_sha256) if s.certificate else None)
                  for s in result.signatures)
    summary = "签名有效：文件自签名以来未被改动" if result.ok else "签名无效：" + "；".join(
        line.verdict for line in lines if not line.ok)
    return SignatureReport(result.ok, summary, lines)


def _line(signature, registered: RegisteredSigner | None) -> SignatureLine:
    certificate = signature.certificate
    if registered is not None:
        agency = f"{registered.agency_name}（{registered.agency_code}，本系统登记的签名证书" + \
                 ("，已停用" if registered.retired else "") + "）"
        trust = ("本机关自签发证书：本系统可以核对，对外不具第三方信任" if registered.self_issued
                 else "机关导入的证书：其可信性以签发机构（CA）为准")
    else:
        agency = (certificate.organization if certificate else "") + "（证书未在本系统登记）"
        trust = "证书未在本系统登记，可信性须另行核实"
    return SignatureLine(
        ok=signature.ok, verdict="完好" if signature.ok else signature.problem or "签名不完整",
        agency=agency, subject=certificate.subject if certificate else "（无法读取证书）",
        fingerprint=certificate.fingerprint_sha256 if certificate else "",
        signed_at=in_shanghai(signature.signing_time).strftime("%Y-%m-%d %H:%M:%S") if signature.signing_time else "—",
        changed_after="是" if signature.modified_after_signing or not signature.intact else "否",
        reason=signature.reason, trust=trust)


def as_text(report: SignatureReport) -> list[str]:
    """The report as the lines `gongkai letter verify` prints."""
    out = [report.summary]
    for n, line in enumerate(report.signatures, start=1):
        out += [f"签名 {n}：{line.verdict}", f"  签名机关：{line.agency}", f"  证书主体：{line.subject}",
                f"  证书指纹（SHA-256）：{line.fingerprint}", f"  签名时间：{line.signed_at}（北京时间，签名者自述）",
                f"  签名后是否改动：{line.changed_after}", f"  签名事由：{line.reason}", f"  证书信任：{line.trust}"]
    return out


@bp.route("/letters/verify", methods=["GET", "POST"])
def verify_upload():
    """A clerk checks a signed letter someone brought back: upload the PDF, read the verdict."""
    report = None
    if request.method == "POST":
        upload = request.files.get("pdf")
        content = upload.read(MAX_VERIFY_BYTES + 1) if upload else b""
        if not content:
            flash("请选择要验证的 PDF 文件", "error")
        elif len(content) > MAX_VERIFY_BYTES:
            flash("文件过大（上限 20 MB）", "error")
        else:
            report = check(content, db.get_session())
    return render_template("signatures/verify.html", report=report, letter=None)


@bp.get("/letters/<int:letter_id>/signature")
def verify_letter(letter_id: int):
    """The signature of a frozen letter, checked now from the bytes the database holds."""
    session = db.get_session()
    letter = session.get(Letter, letter_id) if 1 <= letter_id <= MAX_ID else None
    if letter is None:
        abort(404)
    case = services.load_case(session, letter.case_id, current_user)
    if not letter.sha256:  # rendered after its action's commit, not yet: nothing to check
        flash("该文书正在生成，生成后即可验证签名", "warning")
        return redirect(url_for("cases.show", case_id=case.id))
    return render_template("signatures/verify.html", report=check(letter.pdf, session), letter=letter, case=case)
