"""`gongkai agency signing-key import|create|show` and `gongkai letter verify` (DESIGN §7, Signatures), run as a
user would."""

from __future__ import annotations

import subprocess

from sqlalchemy import select

from engine.persistence.models import SigningKey
from tests.e2e.test_core_cli import run
from tests.integration.helpers_cases import accept, decide_disclosed, register, review_and_sign
from tests.integration.test_signatures import P12_PASSWORD, pkcs12_file


def test_an_administrator_imports_a_pkcs12_with_the_password_on_stdin(db_url, session, agency, tmp_path):
    p12 = tmp_path / "agency.p12"
    p12.write_bytes(pkcs12_file(agency.name))
    wrong = run(db_url, "agency", "signing-key", "import", agency.code, str(p12), stdin="not-the-password\n")
    assert wrong.returncode == 2 and "密码错误" in wrong.stderr
    result = run(db_url, "agency", "signing-key", "import", agency.code, str(p12), stdin=P12_PASSWORD.decode() + "\n")
    assert result.returncode == 0, result.stderr
    assert "导入的证书" in result.stdout and "证书指纹（SHA-256）" in result.stdout
    session.expire_all()
    active = session.scalars(select(SigningKey).where(SigningKey.agency_id == agency.id,
                                                      SigningKey.retired_at.is_(None))).one()
    assert not active.self_issued and active.fingerprint_sha256 in result.stdout
    shown = run(db_url, "agency", "signing-key", "show", agency.code)
    assert shown.returncode == 0 and active.fingerprint_sha256 in shown.stdout
    missing = run(db_url, "agency", "signing-key", "import", agency.code, str(tmp_path / "none.p12"), stdin="x\n")
    assert missing.returncode == 2 and "文件不存在" in missing.stderr


def test_create_makes_a_self_issued_key_labelled_as_not_trusted_outside(db_url, agency):
    result = run(db_url, "agency", "signing-key", "create", agency.code)
    assert result.returncode == 0, result.stderr
    assert "自签发" in result.stdout and "不受外部信任" in result.stdout
    unknown = run(db_url, "agency", "signing-key", "create", "NOSUCH")
    assert unknown.returncode == 2 and "NOSUCH" in unknown.stderr


def test_letter_verify_exits_0_for_a_signed_reply_and_1_once_a_byte_changed_or_without_a_signature(
        db_url, session, users, today, tmp_path):
    case, _ = register(session, users, today)
    accept(session, users, case, today)
    decide_disclosed(session, users, case, today)
    letter = review_and_sign(session, users, case, today)
    signed = tmp_path / "reply.pdf"
    signed.write_bytes(letter.pdf)
    ok = run(db_url, "letter", "verify", str(signed))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("签名有效") and "测试市人民政府办公室（TESTCITY，本系统登记的签名证书）" in ok.stdout
    assert "签名后是否改动：否" in ok.stdout and "证书指纹（SHA-256）" in ok.stdout

    damaged = tmp_path / "damaged.pdf"
    content = bytearray(letter.pdf)
    content[len(content) // 3] ^= 0x01
    damaged.write_bytes(bytes(content))
    bad = run(db_url, "letter", "verify", str(damaged))
    assert bad.returncode == 1 and bad.stdout.startswith("签名无效")

    appended = tmp_path / "appended.pdf"
    appended.write_bytes(letter.pdf + b"\n% a later revision\n")
    later = run(db_url, "letter", "verify", str(appended))
    assert later.returncode == 1 and "签名后是否改动：是" in later.stdout

    unsigned = tmp_path / "unsigned.pdf"
    samples = run(db_url, "letter", "samples", "--out", str(tmp_path / "samples"))
    assert samples.returncode == 0
    unsigned.write_bytes((tmp_path / "samples" / "receipt.pdf").read_bytes())
    none = run(db_url, "letter", "verify", str(unsigned))
    assert none.returncode == 1 and "没有电子签名" in none.stdout
    assert run(db_url, "letter", "verify", str(tmp_path / "absent.pdf")).returncode == 1
    assert subprocess.run(["pdfsig", str(signed)], capture_output=True, text=True).stdout.count("Signature is Valid") == 1
