"""`gongkai ledger import` run as a user would: summary on success, the line-numbered report and exit 2 on failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from engine.persistence.models import Case

GONGKAI = str(Path(sys.executable).with_name("gongkai"))
HEADER = "登记编号,申请人类型,申请人,申请渠道,收到日期,申请内容,答复日期,办理结果\n"


def run(db_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GONGKAI_DATABASE_URL": db_url}
    return subprocess.run([GONGKAI, *args], capture_output=True, text=True, env=env, timeout=300)


def cases_in(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Case))


def test_a_good_ledger_is_imported_into_the_only_agency_with_a_chinese_summary(db_url, session, agency, tmp_path):
    ledger = tmp_path / "台账.csv"
    ledger.write_text(HEADER + ",自然人,张三,网络,2025-03-03,申请公开规划许可,2025-03-20,予以公开\n"
                      ",商业企业,甲公司,邮寄,2025/12/30,申请公开招标文件,,\n", encoding="utf-8-sig")

    result = run(db_url, "ledger", "import", str(ledger))

    assert result.returncode == 0, result.stderr
    assert "共导入 2 件申请" in result.stdout and "测试市人民政府办公室" in result.stdout
    assert cases_in(session) == 2


def test_a_bad_ledger_exits_2_with_every_bad_line_on_stderr_and_writes_nothing(db_url, session, agency, tmp_path):
    ledger = tmp_path / "台账.csv"
    ledger.write_text(HEADER + ",自然人,张三,网络,2025-03-03,申请公开规划许可,2025-03-20,予以公开\n"
                      ",外星人,李四,网络,2025-03-03,申请公开规划许可,,\n"
                      ",自然人,王五,网络,2025-03-33,申请公开规划许可,,\n", encoding="utf-8")

    result = run(db_url, "ledger", "import", str(ledger), "--agency", "TESTCITY")

    assert result.returncode == 2
    assert "第3行：申请人类型「外星人」无效" in result.stderr
    assert "第4行：收到日期「2025-03-33」不是有效日期" in result.stderr
    assert "第2行" not in result.stderr
    assert cases_in(session) == 0


def test_with_several_agencies_the_agency_must_be_named(db_url, session, agency, tmp_path):
    from engine.services.accounts import add_agency

    add_agency(session, "OTHER", "另一机关")
    session.commit()
    ledger = tmp_path / "台账.csv"
    ledger.write_text(HEADER + ",自然人,张三,网络,2025-03-03,申请公开规划许可,,\n", encoding="utf-8")

    refused = run(db_url, "ledger", "import", str(ledger))
    assert refused.returncode == 2 and "--agency" in refused.stderr
    unknown = run(db_url, "ledger", "import", str(ledger), "--agency", "NOPE")
    assert unknown.returncode == 2 and "NOPE" in unknown.stderr
    assert run(db_url, "ledger", "import", str(ledger), "--agency", "OTHER").returncode == 0
