"""PAdES signatures on letters (ETSI EN 319 142-1 baseline B-B, ISO 32000-2) with pyHanko, and their verification.

A letter is signed by an incremental update after WeasyPrint wrote it, so the PDF/A-3b revision underneath is kept
byte for byte; the visible signature sits at the GB/T 9704 seal position (the seal image when there is one, the
signer's role and the date). `PadesSigner` is the one replaceable signing component: anything with the same call
(`signer(pdf, seal_box, title=…) -> bytes`) can take its place — an SM2 seal system under GB/T 38540, for one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import hashlib
import io
import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from fontTools import ttLib
from fontTools.pens.basePen import BasePen
from pyhanko.pdf_utils import content, images, layout
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko.stamp import StaticStampStyle
from pyhanko.stamp.static import StaticContentStamp
from pyhanko_certvalidator import ValidationContext

from letters.errors import LetterRenderError
from letters.seal import SEAL_SIZE_PT, SealBox

FIELD_NAME = "GongkaiSignature"
# Room for the CMS container: an RSA-4096 signature with a three-certificate chain fits with margin.
RESERVED_BYTES = 16384
RED = (0.8, 0.0, 0.0)
CAPTION_FONT_PT = 7
CAPTION_HEIGHT_PT = 2 * (CAPTION_FONT_PT + 2) + 4  # two caption lines under the seal


# A self-issued agency certificate has no trust path by design; pyHanko logs that, with a traceback, as a warning on
# every verification. `verify_pdf` reports trust in its own words, so only pyHanko's errors are let through.
logging.getLogger("pyhanko.sign.validation").setLevel(logging.ERROR)


class SigningError(LetterRenderError):
    """The letter could not be signed (bad key material, no room for the signature, a font that will not load)."""


@dataclass(frozen=True)
class SigningIdentity:
    """An agency's signing key and certificate (DER), with any intermediate certificates of its chain."""

    private_key_der: bytes
    certificate_der: bytes
    chain_der: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class SignatureAppearance:
    """What the visible signature shows and what the signature dictionary names."""

    agency_name: str
    signer_role: str
    signed_on: date
    font_file: Path
    seal_image: Path | None = None
    location: str = ""


class PadesSigner:
    """Signs a rendered letter as PAdES B-B with the agency's key, by incremental update (PDF/A-3b is kept)."""

    def __init__(self, identity: SigningIdentity, appearance: SignatureAppearance):
        self.identity = identity
        self.appearance = appearance

    def __call__(self, pdf: bytes, seal_box: SealBox, *, title: str) -> bytes:
        return sign_pdf(pdf, self.identity, self.appearance, seal_box, reason=title)


def sign_pdf(pdf: bytes, identity: SigningIdentity, appearance: SignatureAppearance, seal_box: SealBox, *,
             reason: str) -> bytes:
    """The PDF with one PAdES B-B signature over all of it, shown at `seal_box` (the seal, if any, with a caption
    strip under it naming the role and the date)."""
    signer = _LoadedKeySigner(identity)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
        name=appearance.agency_name, location=appearance.location or None,
        reason=f"{reason}；{appearance.signer_role}" if appearance.signer_role else reason)
    top = seal_box.y1 if appearance.seal_image is not None else seal_box.y0
    box = (round(seal_box.x0, 2), round(seal_box.y0 - CAPTION_HEIGHT_PT, 2), round(seal_box.x1, 2), round(top, 2))
    pdf_signer = signers.PdfSigner(
        metadata, signer=signer, stamp_style=_stamp_style(appearance),
        new_field_spec=fields.SigFieldSpec(FIELD_NAME, on_page=seal_box.page_index, box=box))
    out = io.BytesIO()
    try:
        _run(pdf_signer.async_sign_pdf(writer, output=out, bytes_reserved=RESERVED_BYTES))
    except (ValueError, TypeError, PdfReadError) as exc:
        raise SigningError(f"文书签名失败：{exc}") from exc
    return out.getvalue()


def _run(coroutine):
    """pyHanko is asynchronous inside; its synchronous wrappers call asyncio.run, which fails in a thread that already
    runs an event loop (a caller driving Playwright, an async server). Such a caller gets a short-lived thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, coroutine).result()


def _cn_date(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _stamp_style(appearance: SignatureAppearance) -> StaticStampStyle:
    return _CompressedStampStyle(background=_AppearanceContent(appearance), border_width=0, background_opacity=1.0,
                                 background_layout=layout.SimpleBoxLayoutRule(
                                     x_align=layout.AxisAlignment.ALIGN_MID, y_align=layout.AxisAlignment.ALIGN_MID,
                                     margins=layout.Margins.uniform(0),
                                     inner_content_scaling=layout.InnerScaling.NO_SCALING))


class _CompressedStamp(StaticContentStamp):
    """pyHanko writes appearance streams uncompressed; the caption's outlines would add some 40 KB to each letter."""

    def as_form_xobject(self):
        xobject = super().as_form_xobject()
        xobject.compress()
        return xobject


@dataclass(frozen=True)
class _CompressedStampStyle(StaticStampStyle):
    def create_stamp(self, writer, box, text_params) -> _CompressedStamp:
        return _CompressedStamp(writer=writer, style=self, box=box)


class _AppearanceContent(content.PdfContent):
    """The seal image at full strength, as the page would print it, over a red two-line caption (电子签名 · role,
    date) drawn as glyph outlines: no font to embed and subset per signature, which would cost more than signing.
    The role and date are in the signature dictionary too (/Reason, /M), as text."""

    def __init__(self, appearance: SignatureAppearance):
        self.appearance = appearance
        self.seal_size = SEAL_SIZE_PT if appearance.seal_image is not None else 0.0
        super().__init__(box=layout.BoxConstraints(SEAL_SIZE_PT, self.seal_size + CAPTION_HEIGHT_PT))

    def render(self) -> bytes:
        ops = [b"q"]
        if self.appearance.seal_image is not None:
            seal = _seal_image(str(self.appearance.seal_image), self.seal_size)
            seal.set_writer(self.writer)
            drawn = seal.render()
            self.import_resources(seal.resources)
            ops.append(b"q 1 0 0 1 0 %g cm %s Q" % (CAPTION_HEIGHT_PT, drawn))
        lines = (f"电子签名 · {self.appearance.signer_role}" if self.appearance.signer_role else "电子签名",
                 _cn_date(self.appearance.signed_on))
        ops.append(b"%g %g %g rg" % RED)
        leading = CAPTION_FONT_PT + 2
        for n, line in enumerate(lines):
            baseline = CAPTION_HEIGHT_PT - 2 - CAPTION_FONT_PT - n * leading + 1.5
            ops.append(_outlined_line(str(self.appearance.font_file), line, CAPTION_FONT_PT,
                                      centre_x=self.box.width / 2, baseline=baseline))
        ops.append(b"Q")
        return b" ".join(ops)


def _seal_image(path: str, size: float) -> images.PdfImage:
    from PIL import Image

    with Image.open(path) as image:
        image.load()
        return images.PdfImage(image.copy(), writer=None, box=layout.BoxConstraints(size, size))


class _PathPen(BasePen):
    """Glyph outlines as PDF path operators, in font units."""

    def __init__(self, glyph_set):
        super().__init__(glyph_set)
        self.ops: list[bytes] = []

    def _moveTo(self, pt):
        self.ops.append(b"%g %g m" % pt)

    def _lineTo(self, pt):
        self.ops.append(b"%g %g l" % pt)

    def _curveToOne(self, pt1, pt2, pt3):
        self.ops.append(b"%g %g %g %g %g %g c" % (*pt1, *pt2, *pt3))

    def _closePath(self):
        self.ops.append(b"h")


@functools.lru_cache(maxsize=4)
def _font(font_file: str):
    try:
        font = ttLib.TTFont(font_file, fontNumber=0, lazy=True)
        return font, font.getGlyphSet(), font.getBestCmap(), font["head"].unitsPerEm
    except (OSError, ttLib.TTLibError, KeyError) as exc:
        raise SigningError(f"签名外观字体无法加载：{font_file}（{exc}）") from exc


@functools.lru_cache(maxsize=512)
def _glyph(font_file: str, character: str) -> tuple[bytes, float]:
    """One character's outline (font units) and advance (em), once per process."""
    font, glyph_set, cmap, units = _font(font_file)
    name = cmap.get(ord(character))
    if name is None:
        raise SigningError(f"签名外观字体缺少字符「{character}」：{font_file}")
    pen = _PathPen(glyph_set)
    glyph_set[name].draw(pen)
    return b" ".join(pen.ops), font["hmtx"][name][0] / units


def _outlined_line(font_file: str, text: str, size: float, *, centre_x: float, baseline: float) -> bytes:
    glyphs = [_glyph(font_file, ch) for ch in text]
    x = centre_x - sum(advance for _path, advance in glyphs) * size / 2
    units = _font(font_file)[3]
    ops = []
    for path, advance in glyphs:
        if path:
            scale = size / units
            ops.append(b"q %g 0 0 %g %g %g cm %s f Q" % (scale, scale, x, baseline, path))
        x += advance * size
    return b" ".join(ops)


class _LoadedKeySigner(signers.Signer):
    """A signer holding the private key once loaded (pyHanko's SimpleSigner reloads it for every raw signature,
    re-running the RSA consistency check that import already did)."""

    def __init__(self, identity: SigningIdentity):
        try:
            key = serialization.load_der_private_key(identity.private_key_der, password=None,
                                                     unsafe_skip_rsa_key_validation=True)
            certificate = asn1_x509.Certificate.load(identity.certificate_der)
            chain = [asn1_x509.Certificate.load(der) for der in identity.chain_der]
        except ValueError as exc:
            raise SigningError(f"签名密钥或证书无法读取：{exc}") from exc
        if not isinstance(key, RSAPrivateKey | EllipticCurvePrivateKey):
            raise SigningError("只支持 RSA 或椭圆曲线（ECDSA）签名密钥")
        self._key = key
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        super().__init__(signing_cert=certificate, cert_registry=SimpleCertificateStore.from_certs(chain))

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
        if isinstance(self._key, RSAPrivateKey):
            return self._key.sign(data, PKCS1v15(), hash_algorithm)
        return self._key.sign(data, ECDSA(hash_algorithm))


# ------------------------------------------------------------------------------------------------ verification

@dataclass(frozen=True)
class CertificateInfo:
    """What a person needs to recognise a certificate: subject, issuer, SHA-256 fingerprint, validity."""

    subject: str
    organization: str
    issuer: str
    fingerprint_sha256: str
    not_before: datetime
    not_after: datetime
    self_issued: bool


def describe_certificate(certificate_der: bytes) -> CertificateInfo:
    certificate = x509.load_der_x509_certificate(certificate_der)
    organizations = certificate.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
    return CertificateInfo(
        subject=certificate.subject.rfc4514_string(), issuer=certificate.issuer.rfc4514_string(),
        organization=str(organizations[0].value) if organizations else "",
        fingerprint_sha256=hashlib.sha256(certificate_der).hexdigest(),
        not_before=certificate.not_valid_before_utc, not_after=certificate.not_valid_after_utc,
        self_issued=certificate.issuer == certificate.subject)


@dataclass(frozen=True)
class SignatureCheck:
    """One embedded signature, checked: intact (the signed bytes hash to the signed digest), cryptographically
    valid, and whether anything was added to the file after it was signed."""

    field_name: str
    intact: bool
    valid: bool
    covers_whole_file: bool
    modified_after_signing: bool
    certificate: CertificateInfo | None
    signing_time: datetime | None
    reason: str
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.covers_whole_file and not self.modified_after_signing


@dataclass(frozen=True)
class VerificationResult:
    """Every signature of a PDF, or why the file could not be read; `ok` only when there is one and all hold."""

    signatures: tuple[SignatureCheck, ...]
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem and bool(self.signatures) and all(s.ok for s in self.signatures)


def verify_pdf(pdf: bytes) -> VerificationResult:
    """Check every signature of `pdf` offline: integrity and the signer's certificate, never a network fetch.

    Trust in the certificate is not judged here (a self-issued agency certificate is trusted by nobody else);
    the result names the certificate so a person or the agency's registry can."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = reader.embedded_signatures
    except Exception as exc:  # pyHanko raises several types for a damaged file; all mean "not a readable PDF"
        return VerificationResult((), problem=f"无法读取 PDF 文件：{exc}")
    if not embedded:
        return VerificationResult((), problem="文件中没有电子签名")
    return VerificationResult(tuple(_check(signature) for signature in embedded))


def _check(signature) -> SignatureCheck:
    name = signature.field_name or ""
    reason = str(signature.sig_object.get("/Reason", "") or "")
    try:
        certificate = describe_certificate(signature.signer_cert.dump())
    except Exception:  # an unreadable certificate is reported as such below
        certificate = None
    try:
        context = ValidationContext(trust_roots=[], allow_fetching=False, revocation_mode="soft-fail")
        status = _run(async_validate_pdf_signature(signature, signer_validation_context=context))
    except Exception as exc:  # a broken CMS container or byte range: the signature does not hold
        return SignatureCheck(name, False, False, False, True, certificate, None, reason,
                              problem=f"签名无法校验：{exc}")
    whole_file = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    # Anything after the signed bytes — a later revision or stray bytes — is a change made after signing.
    changed = not whole_file
    problem = ""
    if not status.intact:
        problem = "签名后文件内容被改动（摘要不符）"
    elif not status.valid:
        problem = "签名值与证书不符"
    elif changed:
        problem = "签名后文件被追加了内容（签名只覆盖此前的版本）"
    return SignatureCheck(name, bool(status.intact), bool(status.valid), whole_file, changed, certificate,
                          signature.self_reported_timestamp, reason, problem)
