"""Importing a historical ledger (台账): good csv and xlsx files, every kind of bad row, all or nothing."""

from __future__ import annotations

import gc
from datetime import date, datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import event, func, select, text

from engine.persistence.models import Applicant, AuditEvent, Case, CaseItem, NumberSequence, PublishedReport
from engine.services import ledger
from engine.services.ledger import (
    LedgerRejected,
    import_ledger,
    parse_ledger_date,
    read_csv_bytes,
    read_ledger,
)
from engine.services.reports import annual_report

from ..conftest import PG_URL

TODAY = date(2026, 3, 2)
HEADER = "登记编号,申请人类型,申请人,申请渠道,收到日期,申请内容,答复日期,办理结果"



def csv_file(*lines: str, bom: bool = True) -> bytes:
    return (("\ufeff" if bom else "") + "\n".join([HEADER, *lines]) + "\n").encode()


def run_import(session, agency, data: bytes, name: str = "台账.csv"):
    return import_ledger(session, agency, read_csv_bytes(data, name), actor=None, today=TODAY)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_good_csv_is_imported_and_counted_by_the_annual_report(session, agency):
    data = csv_file(
        "依申请〔2025〕7号,自然人,张三,网络,2025-03-03,申请公开某小区规划许可证,2025/3/20,予以公开",
        ",商业企业,某某有限公司,邮寄,2025年12月30日,申请公开招标文件,,",
        ",NGO,某公益基金会,当面,2025-06-01,申请公开环评报告,2025-06-05,LAPSED_SUPPLEMENT",
        "XZ-2025-001,自然人,张三,传真,2025-07-01,申请公开征收补偿方案,2025-07-20,部分公开（区分处理）",
    )

    summary = run_import(session, agency, data)

    assert (summary.rows, summary.finished, summary.still_open, summary.numbered) == (4, 3, 1, 2)
    cases = {c.reg_no: c for c in session.scalars(select(Case))}
    assert set(cases) == {"依申请〔2025〕7号", "依申请〔2025〕8号", "依申请〔2025〕9号", "XZ-2025-001"}
    first = cases["依申请〔2025〕7号"]
    assert (first.stage, first.imported, first.report_outcome, first.finished_on) == (
        "replied", True, "DISCLOSED", date(2025, 3, 20))
    open_case = cases["依申请〔2025〕8号"]
    assert (open_case.stage, open_case.received_on, open_case.channel) == ("registered", date(2025, 12, 30), "mail")
    assert open_case.due_on == date(2026, 1, 28)  # 20 working days, New Year's Day not counted
    assert cases["依申请〔2025〕9号"].stage == "closed"
    assert cases["XZ-2025-001"].reg_year == 2025
    items = session.scalars(select(CaseItem).where(CaseItem.case_id == first.id)).all()
    assert [(i.description, i.outcome) for i in items] == [("申请公开某小区规划许可证", "DISCLOSED")]
    assert count(session, Applicant) == 3  # 张三 twice is one applicant
    sequence = session.get(NumberSequence, (agency.id, "REG", 2025))
    assert sequence.last_value == 10  # 7 kept, 8 and 9 drawn, one slot for the free-form XZ-2025-001

    table = annual_report(session, 2025, agency).table3
    assert (table["NEW"]["TOTAL"], table["R1"]["NATURAL"], table["R2"]["NATURAL"]) == (4, 1, 1)
    assert (table["R6_1"]["NGO"], table["CARRY_OUT"]["BUSINESS"]) == (1, 1)
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "import_ledger")).all()
    assert len(events) == 1 and events[0].changes["rows"] == 4


def test_every_imported_case_records_the_state_a_full_read_computes(session, agency, monkeypatch):
    from engine.persistence.audit_state import case_state_digests
    from engine.services import ledger

    monkeypatch.setattr(ledger, "BATCH_ROWS", 2)  # several batches (and progress reports) with a few rows
    run_import(session, agency, csv_file(",自然人,张三,网络,2025-03-03,第一份文件,2025-03-20,予以公开"))
    told = []
    summary = import_ledger(session, agency, read_csv_bytes(csv_file(
        ",自然人,张三,网络,2025-04-01,张三的第二份申请,,",                            # an applicant already there
        "依申请〔2025〕9号,商业企业,某某有限公司,邮寄,2025年5月6日,招标文件,2025/5/20,PARTIAL",
        "XZ-2025-001,NGO,某基金会,当面,2025-06-01,环评报告,2025-06-05,LAPSED_SUPPLEMENT",  # closed
        ",科研机构,某研究所,传真,2024-12-30,统计数据,,",                              # open, due in 2025
        ",法律服务机构,某律所,网络,2025-07-01,带\t制表符和\\反斜杠的内容,2025-07-02,NOT_HELD",
    ), "台账.csv"), actor=None, today=TODAY, progress=told.append)

    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "import_ledger")
                            .order_by(AuditEvent.seq.desc())).first()
    recorded = {int(case_id): digest for case_id, digest in event.changes["case_states"].items()}
    assert len(recorded) == summary.rows == 5
    assert recorded == case_state_digests(session, list(recorded))
    assert sum(told) == 2 * summary.rows  # the CLI's progress bar: validation, then writing
    assert count(session, Applicant) == 5


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="needs GONGKAI_TEST_DATABASE_URL (PostgreSQL)")
def test_on_postgresql_the_import_leaves_nothing_in_the_search_indexes_pending_lists(session, agency):
    rows = [f",自然人,申请人{n},网络,2025-03-03,申请公开第{n}号项目的批复文件及相关材料,," for n in range(3000)]

    run_import(session, agency, csv_file(*rows))

    pending = session.execute(text(
        "SELECT c.relname, gin_clean_pending_list(c.oid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_am a ON a.oid = c.relam WHERE i.indrelid = 'cases'::regclass AND a.amname = 'gin'")).all()
    assert pending and all(pages == 0 for _name, pages in pending)  # all moved into the indexes already
    found = session.scalar(text("SELECT count(*) FROM cases WHERE search_text LIKE '%第2999号项目%'"))
    assert found == 1


def _merges_by_backend(session, agency, monkeypatch, *, beside_fails: bool) -> tuple[int, list[int]]:
    """Import 2,000 rows; the session's backend and the backends that ran the search index's merge."""
    engine = session.get_bind()
    merged_by: list[int] = []

    def note(connection, _cursor, statement, *_args):
        if "gin_clean_pending_list" in statement:
            merged_by.append(connection.connection.dbapi_connection.info.backend_pid)

    ours = session.scalar(text("SELECT pg_backend_pid()"))
    if beside_fails:  # no second connection to be had: the session's own transaction merges
        monkeypatch.setattr(engine, "connect", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("pool empty")))
    event.listen(engine, "before_cursor_execute", note)
    try:
        run_import(session, agency, csv_file(*(
            f",自然人,申请人{n},网络,2025-03-03,申请公开第{n}号项目的批复文件,," for n in range(2000))))
    finally:
        event.remove(engine, "before_cursor_execute", note)
    # nothing left to merge: every entry went into the index before the import ended
    assert session.scalar(text("SELECT gin_clean_pending_list('ix_cases_search_text_trgm'::regclass)")) == 0
    return ours, merged_by


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="needs GONGKAI_TEST_DATABASE_URL (PostgreSQL)")
def test_on_postgresql_another_backend_merges_the_search_index_while_the_import_writes_the_items(session, agency,
                                                                                             monkeypatch):
    ours, merged_by = _merges_by_backend(session, agency, monkeypatch, beside_fails=False)
    assert merged_by and ours not in merged_by
    assert session.scalar(text("SELECT count(*) FROM cases WHERE search_text LIKE '%第1999号项目%'")) == 1


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="needs GONGKAI_TEST_DATABASE_URL (PostgreSQL)")
def test_without_a_second_connection_the_import_merges_the_search_index_itself(session, agency, monkeypatch):
    ours, merged_by = _merges_by_backend(session, agency, monkeypatch, beside_fails=True)
    assert merged_by and set(merged_by) == {ours}
    assert session.scalar(text("SELECT count(*) FROM cases WHERE search_text LIKE '%第1999号项目%'")) == 1


def test_the_collector_is_paused_while_a_ledger_is_read_and_imported_and_runs_again_after(session, agency,
                                                                                         monkeypatch):
    """Python's cyclic collector would walk every row read so far again at each collection (a third of the time
    reading and checking 100,000 rows takes); it runs again when the import ends, whether or not it was refused."""
    while_reading, while_importing = [], []
    raw_row = ledger.RawRow
    monkeypatch.setattr(ledger, "RawRow", lambda *row: while_reading.append(gc.isenabled()) or raw_row(*row))
    good = read_csv_bytes(csv_file(",自然人,张三,网络,2025-03-03,申请公开某小区规划许可证,2025/3/20,予以公开"))
    assert while_reading and not any(while_reading) and gc.isenabled()

    import_ledger(session, agency, good, actor=None, today=TODAY,
                  progress=lambda _n: while_importing.append(gc.isenabled()))
    assert while_importing and not any(while_importing) and gc.isenabled()

    with pytest.raises(LedgerRejected):
        run_import(session, agency, csv_file(",外星人,甲,网络,2025-01-06,内容,,"))
    assert gc.isenabled()
    gc.disable()  # a caller that paused it itself keeps it paused
    try:
        read_csv_bytes(csv_file(",自然人,李四,网络,2025-03-03,申请公开,,"))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_csv_without_bom_and_with_english_headers_is_accepted(session, agency):
    data = ("reg_no,applicant_type,applicant,channel,received_on,request,finished_on,outcome\n"
            ",BUSINESS,甲公司,online,2025-01-06,申请公开资质名单,2025-01-10,NOT_HELD\n").encode()

    run_import(session, agency, data)

    case = session.scalar(select(Case))
    assert (case.reg_no, case.report_outcome, case.channel) == ("依申请〔2025〕1号", "NOT_HELD", "online")


def test_a_good_xlsx_with_real_date_cells_is_imported(session, agency, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["登记编号(reg_no)", "申请人类型", "申请人", "申请渠道", "收到日期", "申请内容", "答复日期", "办理结果"])
    sheet.append([None, "科研机构", "某研究院", "网络", datetime(2024, 11, 5), "申请公开统计数据", date(2024, 11, 28),
                  "没有现成信息需要另行制作"])
    sheet.append([None, "法律服务机构", "某律师事务所", "当面", "2024/12/2", "申请公开处罚决定", None, None])
    sheet.append([None, None, None, None, None, None, None, None])  # a trailing blank row
    path = tmp_path / "台账.xlsx"
    workbook.save(path)

    summary = import_ledger(session, agency, read_ledger(path), actor=None, today=TODAY)

    assert (summary.rows, summary.finished) == (2, 1)
    table = annual_report(session, 2024, agency).table3
    assert (table["R4_2"]["RESEARCH"], table["CARRY_OUT"]["LEGAL_SERVICE"]) == (1, 1)


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_written(session, agency):
    data = csv_file(
        ",外星人,甲,网络,2025-01-06,内容,,",                                   # 2 unknown type
        ",自然人,,网络,2025-01-06,内容,,",                                     # 3 empty applicant
        ",自然人,乙,飞鸽,2025-01-06,内容,,",                                   # 4 unknown channel
        ",自然人,丙,网络,2025-13-40,内容,,",                                   # 5 bad date
        ",自然人,丁,网络,2025-02-10,内容,2025-02-01,予以公开",                 # 6 reply before receipt
        ",自然人,戊,网络,2025-02-10,内容,,予以公开",                           # 7 outcome without reply date
        ",自然人,己,网络,2025-02-10,内容,2025-02-20,",                         # 8 reply date without outcome
        ",自然人,庚,网络,2025-02-10,内容,2025-02-20,随便处理",                 # 9 unknown outcome
        "A-1,自然人,辛,网络,2025-02-10,内容,,",                                # 10 fine
        "A-1,自然人,壬,网络,2025-02-10,内容,,",                                # 11 duplicate in the file
        ",自然人,癸,网络,2025-02-10,,,",                                       # 12 empty request
        ",自然人,子,网络,2027-01-01,内容,,",                                   # 13 in the future
    )

    with pytest.raises(LedgerRejected) as caught:
        run_import(session, agency, data)

    by_line = {}
    for problem in caught.value.problems:
        by_line.setdefault(problem.line, []).append(problem.message)
    assert sorted(by_line) == [2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13]
    assert "申请人类型「外星人」无效" in by_line[2][0]
    assert by_line[3] == ["申请人为空"]
    assert "申请渠道「飞鸽」无效" in by_line[4][0]
    assert "不是有效日期" in by_line[5][0]
    assert "早于收到日期" in by_line[6][0]
    assert by_line[7] == ["填写了办理结果但没有答复日期"]
    assert by_line[8] == ["填写了答复日期但没有办理结果"]
    assert "办理结果「随便处理」无效" in by_line[9][0]
    assert by_line[11] == ["登记编号「A-1」与第10行重复"]
    assert by_line[12] == ["申请内容为空"]
    assert "晚于今天" in by_line[13][0]
    assert str(caught.value.problems[0]).startswith("第2行：")
    assert count(session, Case) == count(session, Applicant) == 0
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "import_ledger")) == 0


@pytest.mark.parametrize(("line", "message"), [
    (",自然人,张\x00三,网络,2025-01-06,内容,,", "申请人含有不允许的控制字符"),
    (",自然人,张三,网络,2025-01-06,不予\u202e公开,,", "申请内容含有不允许的控制字符"),  # shown reversed
    (",自然人," + "张" * 201 + ",网络,2025-01-06,内容,,", "申请人过长（最多 200 字，现有 201 字）"),
    (",自然人,张三,网络,2025-01-06," + "长" * 5001 + ",,", "申请内容过长（最多 5000 字，现有 5001 字）"),
    ("号" * 81 + ",自然人,张三,网络,2025-01-06,内容,,", "登记编号过长（最多 80 字，现有 81 字）"),
])
def test_text_no_other_channel_accepts_is_refused_with_its_line(session, agency, line, message):
    # Before, SQLite stored it and PostgreSQL failed the whole import without naming the line.
    with pytest.raises(LedgerRejected) as caught:
        run_import(session, agency, csv_file(",自然人,甲,网络,2025-01-06,内容,,", line))
    assert [(p.line, p.message.startswith(message)) for p in caught.value.problems] == [(3, True)]
    assert count(session, Case) == count(session, Applicant) == 0


def test_a_registration_number_already_in_the_agency_is_refused(session, agency):
    run_import(session, agency, csv_file(",自然人,甲,网络,2025-01-06,内容,,"))

    with pytest.raises(LedgerRejected) as caught:
        run_import(session, agency, csv_file(",自然人,乙,网络,2025-01-07,内容,,",
                                             "依申请〔2025〕1号,自然人,丙,网络,2025-01-07,内容,,"))

    assert [str(p) for p in caught.value.problems] == ["第3行：登记编号「依申请〔2025〕1号」在本机关已经存在"]
    assert count(session, Case) == 1


def test_a_row_in_a_published_year_is_refused_by_the_period_lock(session, agency):
    from engine.services.accounts import add_user

    admin = add_user(session, agency, "admin", "password-123", ["admin"])
    session.add(PublishedReport(agency_id=agency.id, year=2024, figures={}, published_by_id=admin.id,
                                published_at=datetime(2025, 1, 20)))
    session.flush()

    with pytest.raises(LedgerRejected) as caught:
        run_import(session, agency, csv_file(",自然人,甲,网络,2025-01-06,内容,,",
                                             ",自然人,乙,网络,2024-12-20,内容,2025-01-10,予以公开"))

    assert [p.line for p in caught.value.problems] == [3]
    assert "2024年度报告已发布" in caught.value.problems[0].message
    assert count(session, Case) == 0


def test_a_file_missing_a_required_column_or_not_in_utf8_is_refused_at_line_one():
    with pytest.raises(LedgerRejected) as missing:
        read_csv_bytes("申请人,收到日期\n甲,2025-01-01\n".encode())
    assert "缺少必需的列：申请人类型、申请渠道、申请内容" in str(missing.value.problems[0])
    with pytest.raises(LedgerRejected) as gbk:
        read_csv_bytes((HEADER + "\n,自然人,张三,网络,2025-01-06,内容,,\n").encode("gbk"))
    assert "不是 UTF-8 编码" in gbk.value.problems[0].message


@pytest.mark.parametrize("text, expected", [
    ("2025-03-01", date(2025, 3, 1)), ("2025/3/1", date(2025, 3, 1)), ("2025年3月1日", date(2025, 3, 1)),
    ("", None), (datetime(2025, 3, 1, 0, 0), date(2025, 3, 1)),
])
def test_ledger_dates_are_read_in_every_accepted_form(text, expected):
    assert parse_ledger_date(text) == expected


@pytest.mark.parametrize("text", ["2025-02-30", "3/1/2025", "二〇二五年三月一日", "45000"])
def test_other_date_forms_are_refused(text):
    with pytest.raises(ValueError):
        parse_ledger_date(text)
