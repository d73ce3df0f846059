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
from tests.integration.test_report_exports import flat, pdf_text
from tests.integration.test_report_text import PROBLEMS, enter_report_content

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


def test_the_pdf_is_the_whole_report_and_the_xlsx_its_tables_once_everything_is_entered(db_url, session, agency,
                                                                                       users, tmp_path):
    add_case(session, agency, received_on=date(2025, 3, 3), finished_on=date(2025, 3, 20), outcome="NOT_HELD")
    enter_report_content(session, agency, users["office_head"])
    session.commit()

    for fmt in ("xlsx", "pdf"):
        out = tmp_path / f"report.{fmt}"
        result = run(db_url, "report", "annual", "--year", "2025", "--agency", "TESTCITY", "--format", fmt,
                     "--out", str(out))
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"已生成文件：{out}"
    text = flat(pdf_text((tmp_path / "report.pdf").read_bytes()))
    assert text.startswith("测试市人民政府办公室2025年政府信息公开工作年度报告")
    assert "一、总体情况" in text and flat(PROBLEMS) in text and "六、其他需要报告的事项" in text
    assert "草稿" not in text
    book = load_workbook(tmp_path / "report.xlsx")
    assert book["表三"]["D17"].value == 1 and book["表二"]["B8"].value == 3456
    # The json contract (DESIGN §7) does not grow with the entered parts.
    data = json.loads(run(db_url, "report", "annual", "--year", "2025", "--agency", "TESTCITY").stdout)
    assert set(data) == {"year", "agency", "table3", "table4"} and data["table3"]["R4_1"]["TOTAL"] == 1


def test_a_report_with_empty_parts_exits_1_naming_them_and_is_written_only_as_a_draft(db_url, session, agency,
                                                                                       tmp_path):
    add_case(session, agency, received_on=date(2025, 3, 3), finished_on=date(2025, 3, 20), outcome="NOT_HELD")
    session.commit()
    out = tmp_path / "report.pdf"

    refused = run(db_url, "report", "annual", "--year", "2025", "--agency", "TESTCITY", "--format", "pdf",
                  "--out", str(out))
    assert refused.returncode == 1 and not out.exists()
    assert "年度报告尚未填写完整：一、总体情况；二、主动公开政府信息情况（表二尚有 10 栏未填" in refused.stderr
    assert "五、存在的主要问题及改进情况；六、其他需要报告的事项" in refused.stderr

    draft = run(db_url, "report", "annual", "--year", "2025", "--agency", "TESTCITY", "--format", "pdf",
                "--out", str(out), "--draft")
    assert draft.returncode == 0, draft.stderr
    text = flat(pdf_text(out.read_bytes()))
    assert "草稿（未发布）" in text and "以下部分尚未填写：一、总体情况" in text
    xlsx = run(db_url, "report", "annual", "--year", "2025", "--agency", "TESTCITY", "--format", "xlsx",
               "--out", str(tmp_path / "report.xlsx"))
    assert xlsx.returncode == 1 and "表二尚有 10 栏未填" in xlsx.stderr


def test_files_need_an_agency_when_the_deployment_has_several(db_url, session, agency, tmp_path):
    from engine.services.accounts import add_agency

    add_agency(session, "OTHER", "另一机关")
    session.commit()

    result = run(db_url, "report", "annual", "--year", "2025", "--format", "pdf", "--out", str(tmp_path / "r.pdf"))
    assert result.returncode == 2 and "需要用 --agency 指定机关" in result.stderr
    assert run(db_url, "report", "annual", "--year", "2025").returncode == 0  # the json sum stays


def test_publish_locks_the_year_and_refuses_a_second_time(db_url, session, agency, users):
    add_case(session, agency, received_on=date(2025, 3, 3), finished_on=date(2025, 3, 20), outcome="NOT_HELD")
    session.commit()
    empty = run(db_url, "report", "publish", "--year", "2025", "--agency", "TESTCITY", "--user", "office_head")
    assert empty.returncode == 1 and "尚未填写完整，不能发布：一、总体情况" in empty.stderr
    enter_report_content(session, agency, users["office_head"])
    session.commit()

    published = run(db_url, "report", "publish", "--year", "2025", "--agency", "TESTCITY", "--user", "office_head")
    assert published.returncode == 0, published.stderr
    assert "2025年度数据已锁定" in published.stdout
    again = run(db_url, "report", "publish", "--year", "2025", "--agency", "TESTCITY", "--user", "office_head")
    assert again.returncode == 2 and "已经发布" in again.stderr
    clerk = run(db_url, "report", "publish", "--year", "2024", "--agency", "TESTCITY", "--user", "clerk")
    assert clerk.returncode == 2 and "只有本机关的系统管理员" in clerk.stderr
