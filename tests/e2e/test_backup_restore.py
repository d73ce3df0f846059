"""`gongkai backup` then `gongkai restore` into a fresh database carries everything: the restored database passes
`audit verify` (chain, states, letters' and uploads' bytes) and an archived case exports a package that passes
`archive verify`; the seal comes back with the agency."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import select

from engine.persistence import db as dbmod
from engine.persistence.models import Agency, Case
from engine.services.agency_admin import set_seal_image
from engine.services.uploads import UploadedFile, attach
from tests.integration import helpers_cases as h
from tests.integration.test_archive_export import scan_png
from tests.integration.test_records_stay_put import _archived, _png

GONGKAI = str(Path(sys.executable).with_name("gongkai"))


def run(db_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GONGKAI_DATABASE_URL": db_url}
    return subprocess.run([GONGKAI, *args], capture_output=True, text=True, env=env, timeout=300)


def _fresh_url(db_url: str, tmp_path: Path) -> str:
    if db_url.startswith("postgresql"):
        from sqlalchemy import make_url

        return dbmod.create_database(db_url, f"{make_url(db_url).database}_restored")
    return f"sqlite:///{tmp_path / 'restored.sqlite3'}"


def test_a_backup_restored_into_a_fresh_database_passes_audit_verify_and_archive_verify(db_url, session, users,
                                                                                       tmp_path):
    archived = _archived(session, users)
    open_case, _ = h.register(session, users, date(2026, 3, 2), name="李四")
    attach(session, open_case, UploadedFile("scan.png", scan_png()), kind="application", actor=users["clerk"])
    png = _png()
    set_seal_image(session, png, actor=users["admin"])
    session.commit()
    assert run(db_url, "audit", "verify").returncode == 0
    backup = tmp_path / "backup.zip"
    made = run(db_url, "backup", "--out", str(backup))
    assert made.returncode == 0, made.stderr
    fresh = _fresh_url(db_url, tmp_path)
    try:
        restored = run(fresh, "restore", str(backup))
        assert restored.returncode == 0, restored.stderr
        verified = run(fresh, "audit", "verify")
        assert verified.returncode == 0, verified.stderr
        assert "2 件案件" in verified.stdout
        exported = run(fresh, "archive", "export", archived.reg_no, "--out", str(tmp_path / "out"))
        assert exported.returncode == 0, exported.stderr
        package = Path(exported.stdout.strip().splitlines()[-1])
        checked = run(fresh, "archive", "verify", str(package))
        assert checked.returncode == 0, checked.stdout
        engine = dbmod.make_engine(fresh)
        with engine.connect() as conn:
            seal = conn.execute(select(Agency.seal_image_data)).scalar()
            reg_nos = set(conn.execute(select(Case.reg_no)).scalars())
        engine.dispose()
        assert hashlib.sha256(seal).hexdigest() == hashlib.sha256(png).hexdigest()
        assert reg_nos == {archived.reg_no, open_case.reg_no}
        # New work continues on the restored database (sequences reset) and still verifies.
        again = run(fresh, "restore", str(backup))
        assert again.returncode == 2 and "不是空的" in again.stderr
    finally:
        if fresh.startswith("postgresql"):
            dbmod.drop_database(fresh)
