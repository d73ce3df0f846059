"""`gongkai archive export` and `gongkai archive verify` run as an archivist would, against a real database."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

from tests.integration.helpers_cases import register
from tests.integration.test_archive_export import make_archived_case

GONGKAI = str(Path(sys.executable).with_name("gongkai"))


def run(db_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GONGKAI_DATABASE_URL": db_url}
    return subprocess.run([GONGKAI, "archive", *args], capture_output=True, text=True, env=env, timeout=300)


def test_export_one_case_then_verify_it_then_catch_a_tampered_copy(db_url, session, agency, users, tmp_path):
    case = make_archived_case(session, users)
    exported = run(db_url, "export", case.reg_no, "--out", str(tmp_path / "out"))
    assert exported.returncode == 0, exported.stderr
    path = Path(exported.stdout.strip())
    assert path == tmp_path / "out" / f"{case.archive_no}.zip" and path.is_file()
    verified = run(db_url, "verify", str(path))
    assert verified.returncode == 0 and "完好" in verified.stdout

    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(path) as old, zipfile.ZipFile(tampered, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            new.writestr(info, data + b"\n" if info.filename.endswith(".png") else data)
    refused = run(db_url, "verify", str(tampered))
    assert refused.returncode == 1
    assert "校验未通过" in refused.stdout and ".png" in refused.stdout and "SHA-256" in refused.stdout


def test_bulk_export_of_a_year_shows_progress_on_stderr_and_writes_every_case(db_url, session, agency, users,
                                                                            tmp_path):
    cases = [make_archived_case(session, users, name=name) for name in ("张三", "李四")]
    result = run(db_url, "export", "--year", "2026", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "导出 2026 年度案卷" in result.stderr
    assert "已导出 2 件案卷" in result.stdout
    assert sorted(p.name for p in tmp_path.glob("*.zip")) == sorted(f"{c.archive_no}.zip" for c in cases)
    empty = run(db_url, "export", "--year", "2025", "--out", str(tmp_path / "none"))
    assert empty.returncode == 0 and "没有已归档的案件" in empty.stderr


def test_bad_input_exits_2_with_a_chinese_message_and_leaves_nothing(db_url, session, agency, users, tmp_path):
    case, _ = register(session, users, date(2026, 3, 2))
    out = tmp_path / "out"
    unarchived = run(db_url, "export", case.reg_no, "--out", str(out))
    assert unarchived.returncode == 2 and "尚未归档" in unarchived.stderr and case.reg_no in unarchived.stderr
    unknown = run(db_url, "export", "依申请〔2026〕999号", "--out", str(out))
    assert unknown.returncode == 2 and "没有找到登记编号" in unknown.stderr
    both = run(db_url, "export", case.reg_no, "--year", "2026", "--out", str(out))
    assert both.returncode == 2 and "二者选一" in both.stderr
    assert not out.exists() or list(out.iterdir()) == []
    (tmp_path / "not-a-zip.zip").write_text("这不是压缩包")
    not_zip = run(db_url, "verify", str(tmp_path / "not-a-zip.zip"))
    assert not_zip.returncode == 2 and "不是 ZIP 文件" in not_zip.stderr
