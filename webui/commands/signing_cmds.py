"""`gongkai agency signing-key import|create|show` and `gongkai letter verify` (DESIGN §7, Signatures)."""

from __future__ import annotations

import sys
from pathlib import Path

import click


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(code)


def _read_pkcs12_password() -> bytes:
    """From a prompt on a terminal, else one line of standard input (an empty line: no password)."""
    if sys.stdin.isatty():
        return click.prompt("PKCS#12 文件密码", hide_input=True, default="", show_default=False).encode()
    return sys.stdin.readline().rstrip("\r\n").encode()


@click.group("signing-key")
def signing_key() -> None:
    """机关的文书签名证书（私钥加密保存，网页和接口都读不到）。"""


@signing_key.command("import")
@click.argument("code")
@click.argument("file", type=click.Path(dir_okay=False))
def signing_key_import(code: str, file: str) -> None:
    """导入机关 CODE 的签名证书和私钥（PKCS#12 文件 FILE；密码从提示或标准输入读取）。"""
    from engine.errors import GongkaiError
    from engine.persistence.audit import utcnow
    from engine.persistence.db import transaction
    from engine.services.accounts import agency_by_code
    from engine.services.signing_keys import import_signing_key

    path = Path(file)
    if not path.is_file():
        _fail(f"文件不存在：{file}")
    data = path.read_bytes()
    password = _read_pkcs12_password()
    try:
        with transaction() as session:
            row = import_signing_key(session, agency_by_code(session, code), data, password, now=utcnow())
            _print_key(row)
    except GongkaiError as exc:
        _fail(exc.message)


@signing_key.command("create")
@click.argument("code")
def signing_key_create(code: str) -> None:
    """为机关 CODE 生成自签发证书（仅供试用和演示：对外不具第三方信任）。"""
    from engine.errors import GongkaiError
    from engine.persistence.audit import utcnow
    from engine.persistence.db import transaction
    from engine.services.accounts import agency_by_code
    from engine.services.signing_keys import create_signing_key

    try:
        with transaction() as session:
            row = create_signing_key(session, agency_by_code(session, code), now=utcnow())
            _print_key(row)
    except GongkaiError as exc:
        _fail(exc.message)
    click.echo("注意：这是自签发证书，只能证明文书出自本系统且未被改动，外部不会信任它；正式使用请导入 CA 签发的证书。")


@signing_key.command("show")
@click.argument("code")
def signing_key_show(code: str) -> None:
    """显示机关 CODE 正在使用的签名证书（不显示私钥）。"""
    from engine.errors import GongkaiError
    from engine.persistence.db import transaction
    from engine.services.accounts import agency_by_code
    from engine.services.signing_keys import active_signing_key

    try:
        with transaction() as session:
            row = active_signing_key(session, agency_by_code(session, code).id)
            if row is None:
                _fail(f"机关「{code}」尚未配置签名证书", 1)
            _print_key(row)
    except GongkaiError as exc:
        _fail(exc.message)


def _print_key(row) -> None:
    click.echo(f"证书主体：{row.subject}")
    click.echo(f"证书指纹（SHA-256）：{row.fingerprint_sha256}")
    click.echo(f"有效期：{row.not_before:%Y-%m-%d} 至 {row.not_after:%Y-%m-%d}")
    click.echo(f"类型：{'自签发（仅供本机关内部核验）' if row.self_issued else '导入的证书'}")


@click.command("verify")
@click.argument("file", type=click.Path(dir_okay=False))
def letter_verify(file: str) -> None:
    """验证 PDF 文书的电子签名：完好退出 0，无效或没有签名退出 1。"""
    from sqlalchemy.exc import SQLAlchemyError

    from engine.persistence.db import transaction
    from webui.signatures import as_text, check

    path = Path(file)
    if not path.is_file():
        _fail(f"文件不存在：{file}", 1)  # the contract: anything but an intact signature exits 1
    pdf = path.read_bytes()
    try:
        with transaction() as session:
            report = check(pdf, session)
    except SQLAlchemyError as exc:
        # The file's own signature can be checked without the registry; say that the registry was not reached.
        from webui.signatures import check_without_registry

        click.echo(f"（未能查询本系统登记的签名证书：{exc.__class__.__name__}）", err=True)
        report = check_without_registry(pdf)
    for line in as_text(report):
        click.echo(line)
    sys.exit(0 if report.ok else 1)
