"""`gongkai backup` / `gongkai restore`: the whole database (letters, uploads and seals included) and the audit
key in one file, restorable into a fresh database of either kind."""

from __future__ import annotations

import sys
from pathlib import Path

import click


def _fail(message: str, code: int = 2) -> None:
    click.echo(message, err=True)
    sys.exit(code)


@click.command()
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False), help="备份文件（.zip）")
def backup(out_file: str) -> None:
    """备份整个数据库（含文书、上传材料、印章）和校验审计链所需的配置（审计密钥），写入一个文件。"""
    from engine.persistence.backup import write_backup
    from engine.persistence.db import default_engine

    with default_engine().connect() as conn, conn.begin():
        manifest = write_backup(conn, Path(out_file))
    rows = sum(manifest["tables"].values())
    click.echo(f"已备份到 {out_file}（{len(manifest['tables'])} 张表，共 {rows} 行；数据库结构版本 "
               f"{manifest['revision']}）。备份含审计密钥，请与数据库同等保密。")


@click.command()
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False))
def restore(backup_file: str) -> None:
    """把备份恢复到 GONGKAI_DATABASE_URL 指定的新数据库（先迁移到备份的结构版本；目标必须为空）。"""
    from engine.config import load_settings
    from engine.persistence import db as dbmod
    from engine.persistence.audit import key_fingerprint
    from engine.persistence.backup import BackupError, read_manifest, restore_backup

    path = Path(backup_file)
    try:
        manifest, _config = read_manifest(path)
    except BackupError as exc:
        _fail(str(exc))
    url = load_settings().database_url
    dbmod.upgrade(url, manifest["revision"])
    engine = dbmod.make_engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            restore_backup(conn, path)
    except BackupError as exc:
        _fail(str(exc))
    finally:
        engine.dispose()
    for line in dbmod.upgrade(url):
        click.echo(line)
    click.echo(f"已从 {backup_file} 恢复（{sum(manifest['tables'].values())} 行）")
    if key_fingerprint(load_settings().audit_key.encode()) != manifest["audit_key_fingerprint"]:
        click.echo("注意：当前配置的审计密钥与备份时不同。请把 GONGKAI_AUDIT_KEY 设为备份文件 config.json 中的 audit_key，"
                   "否则 gongkai audit verify 无法通过。", err=True)
