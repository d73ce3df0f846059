"""A whole-database backup that any of our databases can restore (SQLite ⇄ PostgreSQL): every mapped table, rows
streamed in primary-key order as JSON lines inside one zip, with the schema revision and the configuration needed
to verify the audit chain (the audit key; the backup is therefore as secret as the database itself).

Everything lives in the database — letters, uploads and the seal included — so nothing under var/ is needed."""

from __future__ import annotations

import base64
import json
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Date, DateTime, LargeBinary, func, select, text
from sqlalchemy.engine import Connection

from engine.config import load_settings
from engine.persistence.audit import key_fingerprint
from engine.persistence.models import Base

FORMAT = "gongkai-backup/1"
BATCH = 500


class BackupError(Exception):
    """A backup cannot be restored here (message in Chinese)."""


def _encode(column, value):
    if value is None:
        return None
    if isinstance(column.type, LargeBinary):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _decode(column, value):
    if value is None:
        return None
    if isinstance(column.type, LargeBinary):
        return base64.b64decode(value)
    if isinstance(column.type, DateTime):
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if isinstance(column.type, Date):
        return date.fromisoformat(value)
    return value


def _revision(conn: Connection) -> str | None:
    try:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001 - no alembic table: not one of our databases
        return None


def write_backup(conn: Connection, out: Path) -> dict:
    """Dump every table to `out` (a zip); returns the manifest (row counts per table)."""
    settings = load_settings()
    counts = {}
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in Base.metadata.sorted_tables:
            key = list(table.primary_key.columns)
            count = 0
            with archive.open(f"tables/{table.name}.jsonl", "w") as fh:
                result = conn.execution_options(yield_per=BATCH).execute(select(table).order_by(*key))
                for row in result:
                    record = {c.name: _encode(c, row._mapping[c]) for c in table.columns}
                    fh.write((json.dumps(record, ensure_ascii=False) + "\n").encode())
                    count += 1
            counts[table.name] = count
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "revision": _revision(conn),
            "tables": counts,
            "audit_key_fingerprint": key_fingerprint(settings.audit_key.encode()),
        }
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        # What `audit verify` needs besides the database: the chain's key (set it as GONGKAI_AUDIT_KEY after a restore).
        archive.writestr("config.json", json.dumps({"audit_key": settings.audit_key}, ensure_ascii=False))
    return manifest


def read_manifest(path: Path) -> tuple[dict, dict]:
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            config = json.loads(archive.read("config.json"))
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise BackupError(f"{path} 不是可用的备份文件：{exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} 不是本系统的备份文件")
    return manifest, config


def restore_backup(conn: Connection, path: Path) -> dict:
    """Load a backup into an empty database already migrated to the backup's revision; returns the manifest."""
    manifest, _config = read_manifest(path)
    revision = _revision(conn)
    if revision != manifest["revision"]:
        raise BackupError(f"目标数据库的结构版本（{revision}）与备份（{manifest['revision']}）不同；"
                          f"请先运行 gongkai db upgrade --revision {manifest['revision']}")
    for table in Base.metadata.sorted_tables:
        if conn.execute(select(func.count()).select_from(table)).scalar():
            raise BackupError(f"目标数据库不是空的（表 {table.name} 已有数据），恢复只能写入新建的数据库")
    with zipfile.ZipFile(path) as archive:
        for table in Base.metadata.sorted_tables:
            batch = []
            with archive.open(f"tables/{table.name}.jsonl") as fh:
                for line in fh:
                    record = json.loads(line)
                    batch.append({c.name: _decode(c, record.get(c.name)) for c in table.columns})
                    if len(batch) >= BATCH:
                        conn.execute(table.insert(), batch)
                        batch = []
            if batch:
                conn.execute(table.insert(), batch)
            if conn.dialect.name == "postgresql":
                _reset_sequence(conn, table)
    return manifest


def _reset_sequence(conn: Connection, table) -> None:
    key = list(table.primary_key.columns)
    if len(key) != 1 or key[0].type.python_type is not int:
        return
    column = key[0].name
    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "
                      f"COALESCE((SELECT MAX({column}) FROM {table.name}), 0) + 1, false)"))
