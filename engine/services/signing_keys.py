"""An agency's signing identity (DESIGN §7, Signatures): imported from a PKCS#12 file or self-issued for trials, its
private key encrypted at rest with a key from configuration, and handed — decrypted for one call — to the injected
letter renderer that signs. Nothing here touches a PDF; no page or API ever reads the private key.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.orm import Session

from engine.config import load_settings
from engine.errors import InvalidInput, RuleViolation
from engine.persistence.audit import record_event
from engine.persistence.direct_read import core_rows
from engine.persistence.models import Agency, SigningKey, User
from engine.rules.vocabulary import ROLE_LABELS

# Said in the certificate itself, so that whoever inspects a signature sees it (the subject's OU).
SELF_ISSUED_LABEL = "自签发证书，仅供本机关内部核验，不受外部信任"
SELF_ISSUED_YEARS = 5
MAX_PKCS12_BYTES = 1024 * 1024


@dataclass(frozen=True)
class SigningRequest:
    """What the renderer needs to sign one letter: the agency's key and certificate chain (DER, decrypted for this
    call only) and what the visible signature says."""

    private_key_der: bytes
    certificate_der: bytes
    chain_der: tuple[bytes, ...]
    agency_name: str
    signer_role: str
    signed_on: date


# ------------------------------------------------------------------------------------------------ at rest

def _secret() -> str:
    """GONGKAI_SIGNING_KEY_SECRET (or `signing_key_secret` in the TOML file); for the embedded setup only, one
    generated once under var/ beside the SQLite database. Production must configure it."""
    settings = load_settings()
    if settings.signing_key_secret:
        return settings.signing_key_secret
    if settings.production:
        raise RuleViolation("生产环境必须配置签名私钥加密密钥 GONGKAI_SIGNING_KEY_SECRET（或配置文件 signing_key_secret）")
    path = Path(settings.var_dir) / "signing_key_secret"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and linked into place: two processes starting together agree on one secret, and neither
        # ever reads a half-written file.
        draft = path.with_name(f".signing_key_secret.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def _encryption_key() -> tuple[bytes, str]:
    """The AES-256 key derived from the configured secret, and a short id that names it (not the key)."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"gongkai signing-key encryption v1").derive(_secret().encode())
    return key, hashlib.sha256(b"key-id" + key).hexdigest()[:16]


def _associated_data(agency_id: int, fingerprint: str) -> bytes:
    # Binds the ciphertext to its agency and certificate: a row copied to another agency does not decrypt.
    return f"gongkai-signing-key:{agency_id}:{fingerprint}".encode()


def _encrypt(private_key_der: bytes, agency_id: int, fingerprint: str) -> tuple[bytes, str]:
    key, key_id = _encryption_key()
    nonce = secrets.token_bytes(12)
    return nonce + AESGCM(key).encrypt(nonce, private_key_der, _associated_data(agency_id, fingerprint)), key_id


def _decrypt(row: SigningKey | Row) -> bytes:
    key, key_id = _encryption_key()
    if key_id != row.encryption_key_id:
        raise RuleViolation("签名私钥无法解密：当前配置的 GONGKAI_SIGNING_KEY_SECRET 与加密该私钥时不同")
    try:
        return AESGCM(key).decrypt(row.encrypted_private_key[:12], row.encrypted_private_key[12:],
                                   _associated_data(row.agency_id, row.fingerprint_sha256))
    except InvalidTag as exc:
        raise RuleViolation("签名私钥已损坏或不属于本机关，无法解密") from exc


# ------------------------------------------------------------------------------------------------ identities

def import_signing_key(session: Session, agency: Agency, p12: bytes, password: bytes | None, *,
                       now: datetime, actor: User | None = None) -> SigningKey:
    """An administrator's PKCS#12 file (key, certificate, chain) becomes the agency's signing identity."""
    if not p12 or len(p12) > MAX_PKCS12_BYTES:
        raise InvalidInput("PKCS#12 文件为空或过大（上限 1 MB）")
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(p12, password or None)
    except ValueError as exc:
        raise InvalidInput("PKCS#12 文件无法打开：密码错误或文件不是 PKCS#12 格式") from exc
    if key is None or certificate is None:
        raise InvalidInput("PKCS#12 文件中没有私钥和证书")
    return _store(session, agency, key, certificate, list(chain or ()), now=now, actor=actor, self_issued=False)


def create_signing_key(session: Session, agency: Agency, *, now: datetime, actor: User | None = None) -> SigningKey:
    """A self-issued identity for trials and the demo: ECDSA P-256, five years, labelled in its subject as trusted
    by nobody outside the agency."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, agency.name),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, SELF_ISSUED_LABEL),
        x509.NameAttribute(NameOID.COMMON_NAME, f"{agency.name} 文书签名（{agency.code}）"[:64]),
    ])
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=365 * SELF_ISSUED_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256()))
    return _store(session, agency, key, certificate, [], now=now, actor=actor, self_issued=True)


def _store(session: Session, agency: Agency, key, certificate: x509.Certificate, chain: list[x509.Certificate], *,
           now: datetime, actor: User | None, self_issued: bool) -> SigningKey:
    _check_usable(key, certificate, now)
    certificate_der = certificate.public_bytes(serialization.Encoding.DER)
    fingerprint = hashlib.sha256(certificate_der).hexdigest()
    if session.scalar(select(SigningKey.id).where(SigningKey.fingerprint_sha256 == fingerprint)):
        raise InvalidInput(f"该证书已经导入过（SHA-256 指纹 {fingerprint}）")
    session.execute(update(SigningKey).where(SigningKey.agency_id == agency.id, SigningKey.retired_at.is_(None))
                    .values(retired_at=now))
    private_key_der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    row = SigningKey(agency_id=agency.id, certificate_der=certificate_der,
                     chain_der=[base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in chain],
                     fingerprint_sha256=fingerprint, subject=certificate.subject.rfc4514_string(),
                     not_before=certificate.not_valid_before_utc, not_after=certificate.not_valid_after_utc,
                     self_issued=self_issued, created_at=now, encrypted_private_key=b"", encryption_key_id="")
    session.add(row)
    session.flush()
    row.encrypted_private_key, row.encryption_key_id = _encrypt(private_key_der, agency.id, fingerprint)
    session.flush()
    record_event(session, agency_id=agency.id, action="set_signing_key", actor=actor,
                 changes={"fingerprint_sha256": fingerprint, "subject": row.subject, "self_issued": self_issued,
                          "not_after": row.not_after.isoformat()})
    return row


def _check_usable(key, certificate: x509.Certificate, now: datetime) -> None:
    """Refuse key material that could not make a signature anyone should accept."""
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise InvalidInput("只支持 RSA 或椭圆曲线（ECDSA）签名密钥")
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size < 2048:
        raise InvalidInput("RSA 密钥长度至少 2048 位")
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if (key.public_key().public_bytes(serialization.Encoding.DER, public)
            != certificate.public_key().public_bytes(serialization.Encoding.DER, public)):
        raise InvalidInput("私钥与证书不匹配")
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise InvalidInput(f"证书不在有效期内（{certificate.not_valid_before_utc:%Y-%m-%d} 至 "
                           f"{certificate.not_valid_after_utc:%Y-%m-%d}）")
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (usage.digital_signature or usage.content_commitment):
        raise InvalidInput("证书的密钥用途不包括数字签名")


def _aware(moment: datetime) -> datetime:
    """SQLite hands timezone-aware columns back naive (they are stored in UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_KEYS = SigningKey.__table__


def _active(*columns):
    """The agency's active key (the newest not retired), selecting `columns`; built once per use below."""
    return (select(*columns).where(_KEYS.c.agency_id == bindparam("agency_id"), _KEYS.c.retired_at.is_(None))
            .order_by(_KEYS.c.id.desc()).limit(1))


_ACTIVE = _active(SigningKey)  # the entity: the command line and the pages show the whole key


def active_signing_key(session: Session, agency_id: int) -> SigningKey | None:
    return session.scalar(_ACTIVE, {"agency_id": agency_id})


# What issuing a letter reads of the active key, as a Core row (`direct_read`): every letter issued asks, and loading
# the key as an entity cost more than the query.
_ACTIVE_IDENTITY = _active(*(_KEYS.c[name] for name in (
    "id", "agency_id", "fingerprint_sha256", "not_before", "not_after", "certificate_der", "chain_der",
    "encrypted_private_key", "encryption_key_id")))


@dataclass(frozen=True)
class RegisteredSigner:
    """Whose key a certificate is in this system's registry: what a verification page can add to the PDF's word."""

    agency_code: str
    agency_name: str
    self_issued: bool
    retired: bool


def registered_signer(session: Session, fingerprint: str) -> RegisteredSigner | None:
    """The agency that registered the certificate with this SHA-256 fingerprint (retired keys too), if any."""
    row = session.execute(select(SigningKey, Agency).join(Agency, Agency.id == SigningKey.agency_id)
                          .where(SigningKey.fingerprint_sha256 == fingerprint.lower())).first()
    if row is None:
        return None
    key, agency = row
    return RegisteredSigner(agency.code, agency.name, key.self_issued, key.retired_at is not None)


def signing_request(session: Session, agency: Agency, actor: User, *, signs_reply: bool, now: datetime,
                    today: date) -> tuple[Row, SigningRequest] | None:
    """The agency's active identity, decrypted, for one letter (with the key's row: its id, fingerprint and
    validity); None when it has none (then only the reply, which must be signed, is refused). An expired
    certificate is refused rather than used."""
    row = core_rows(session, _ACTIVE_IDENTITY, {"agency_id": agency.id}, reads=(SigningKey,)).first()
    if row is None:
        if signs_reply:
            raise RuleViolation("本机关尚未配置文书签名证书，不能签发：请管理员导入证书（gongkai agency signing-key "
                                "import）或生成自签发证书（gongkai agency signing-key create）")
        return None
    if not _aware(row.not_before) <= now <= _aware(row.not_after):
        raise RuleViolation(f"本机关的签名证书已不在有效期内（{row.not_after:%Y-%m-%d} 到期），请管理员导入新证书")
    role = "legal_reviewer" if signs_reply else next((r for r in ROLE_LABELS if actor.has_role(r)), "")
    return row, SigningRequest(private_key_der=_decrypt(row), certificate_der=row.certificate_der,
                               chain_der=tuple(base64.b64decode(c) for c in row.chain_der),
                               agency_name=agency.name, signer_role=ROLE_LABELS.get(role, ""),
                               signed_on=today)


def signing_request_for_key(session: Session, key_id: int, *, agency_name: str, signer_role: str,
                            signed_on: date) -> SigningRequest:
    """The identity a letter was issued with (its `signing_key_id`), decrypted again to sign it when it is rendered
    after the commit; the key signs even if retired since (the letter was issued while it was active)."""
    row = session.get(SigningKey, key_id)
    if row is None:
        raise RuleViolation("文书签发时使用的签名证书已不存在，无法生成")
    return SigningRequest(private_key_der=_decrypt(row), certificate_der=row.certificate_der,
                          chain_der=tuple(base64.b64decode(c) for c in row.chain_der),
                          agency_name=agency_name, signer_role=signer_role, signed_on=signed_on)
