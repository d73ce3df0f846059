"""`gongkai report annual|publish` run as a user would (DESIGN §7 JSON contract, xlsx/pdf files, exit codes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from openpyxl import load_workbook

from engine.rules.outcomes import REPORT_COLUMNS, REPORT_ROWS
from tests.integration.test_report_counting import add_case

GONGKAI = str(Path(sys.executable).with_name("gongkai"))


def run(db_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GONGKAI_DATABASE_URL": db_url}
    return subprocess.run([GONGKAI, *args], capture_output=True, text=True, env=env, timeout=300)


def test_the_json_report_has_every_row_and_column_and_sums_agencies_without_agency(db_url, session, agency):
    from engine.services.accounts import add_agency

    other = add_agency(session, "OTHER", "另一机关")
    add_case(session, agency, kind="NGO", received_on=date(2025, 3, 3), finished_on=date(2025, 3, 20),
             outcome="DISCLOSED")
    add_case(session, other, received_on=date(2025, 12, 30))
    session.commit()

    one = run(db_url, "report", "annual", "--year", "2025", "--agency", "TESTCITY", "--format", "json")
    every = run(db_url, "report", "annual", "--year", "2025")

    assert one.returncode == 0, one.stderr
    data = json.loads(one.stdout)
    assert (data["year"], data["agency"]) == (2025, "TESTCITY")
    assert list(data["table3"]) == list(REPORT_ROWS)
    assert all(list(values) == list(REPORT_COLUMNS) for values in data["table3"].values())
    assert data["table3"]["R1"]["NGO"] == 1 and data["table3"]["CARRY_OUT"]["TOTAL"] == 0
    assert data["table4"]["REVIEW"] == {"UPHELD": 0, "CORRECTED": 0, "OTHER": 0, "PENDING": 0, "TOTAL": 0}
    assert set(data["table4"]) == {"REVIEW", "SUIT_DIRECT", "SUIT_AFTER_REVIEW"}
    summed = json.loads(every.stdout)
    assert summed["agency"] is None
    assert (summed["table3"]["NEW"]["TOTAL"], summed["table3"]["CARRY_OUT"]["NATURAL"]) == (2, 1)


def test_with_a_single_agency_the_report_names_it_without_agency(db_url, session, agency):
    add_case(session, agency, received_on=date(2025, 3, 3), finished_on=date(2025, 3, 20), outcome="DISCLOSED")
    session.commit()
    result = run(db_url, "report", "annual", "--year", "2025", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["agency"] == "TESTCITY" and data["table3"]["R1"]["TOTAL"] == 1


def test_an_unreconciled_table_exits_1_naming_the_cells_and_writes_only_a_draft(db_url, session, agency, tmp_path):
    add_case(session, agency, kind="RESEARCH", received_on=date(2025, 3, 3), finished_on=date(2025, 3, 20),
             outcome=None)
    session.commit()
    out = tmp_path / "report.xlsx"

    refused = run(db_url, "report", "annual", "--year", "2025", "--agency", "TESTCITY", "--format", "xlsx",
                  "--out", str(out))
    assert refused.returncode == 1
    assert "「科研机构」列不平衡" in refused.stderr and "NEW/RESEARCH" in refused.stderr
    assert not out.exists()

    draft = run(db_url, "report", "annual", "--year", "2025", "--agency", "TESTCITY", "--format", "xlsx",
                "--out", str(out), "--draft")
    assert draft.returncode == 0, draft.stderr
    assert "草稿" in load_workbook(out)["表三"]["A1"].value


def test_xlsx_and_pdf_files_are_written_for_a_reconciled_table(db_url, session, agency, tmp_path):
    add_case(session, agency, received_on=date(2025, 3, 3), finished_on=date(2025, 3, 20), outcome="NOT_HELD")
    session.commit()

    for fmt in ("xlsx", "pdf"):
        out = tmp_path / f"report.{fmt}"
        result = run(db_url, "report", "annual", "--year", "2025", "--agency", "TESTCITY", "--format", fmt,
                     "--out", str(out))
        assert result.returncode == 0, result.stderr
        assert out.stat().st_size > 1000
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")
    assert load_workbook(tmp_path / "report.xlsx")["表三"]["D17"].value == 1


def test_publish_locks_the_year_and_refuses_a_second_time(db_url, session, agency, users):
    add_case(session, agency, received_on=date(2025, 3, 3), finished_on=date(2025, 3, 20), outcome="NOT_HELD")
    session.commit()

    published = run(db_url, "report", "publish", "--year", "2025", "--agency", "TESTCITY", "--user", "office_head")
    assert published.returncode == 0, published.stderr
    assert "2025年度数据已锁定" in published.stdout
    again = run(db_url, "report", "publish", "--year", "2025", "--agency", "TESTCITY", "--user", "office_head")
    assert again.returncode == 2 and "已经发布" in again.stderr
    clerk = run(db_url, "report", "publish", "--year", "2024", "--agency", "TESTCITY", "--user", "clerk")
    assert clerk.returncode == 2 and "只有本机关的系统管理员" in clerk.stderr
