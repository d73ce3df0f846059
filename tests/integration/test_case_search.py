"""Full-text search of the case list: any substring of the applicant or the request text, any length."""

from __future__ import annotations

from datetime import date

import pytest

from engine import services
from webui.case_queries import CaseFilter, page_of

from .helpers_cases import migrate_again_from, register, render

MON = date(2026, 3, 2)


@pytest.fixture
def three_cases(session, agency, users):
    register(session, users, MON, name="欧阳喆", id_number="", items=[("幸福小区房屋征收补偿方案", "房屋征收")])
    register(session, users, MON, name="李四", id_number="", items=[("公共租赁住房分配名单", "保障性住房")])
    case, _ = register(session, users, MON, name="王五", id_number="", items=[("地铁3号线环评报告", "城乡规划")])
    services.request_supplement(session, case.id, items=["请写明文号"], renderer=render, actor=users["clerk"], today=MON)
    case.search_text = case.search_text + " 补正后：地铁三号线东延段"  # an edit re-indexes the text
    session.commit()
    return agency


@pytest.mark.parametrize(("q", "expected"), [
    ("征收补偿", {"欧阳喆"}),        # three or more characters: the trigram index on both databases
    ("欧阳喆", {"欧阳喆"}),
    ("租赁", {"李四"}),              # two characters: a plain substring match
    ("东延段", {"王五"}),            # found after the text was edited
    ("3号线", {"王五"}),
    ("依申请〔2026〕2号", {"李四"}),  # the registration number
    ("不存在的内容", set()),
    ('"引号', set()),                # quotes cannot break the query
])
def test_the_list_finds_cases_by_any_part_of_their_text(session, three_cases, q, expected):
    listed = page_of(session, three_cases.id, CaseFilter(q=q), MON)
    assert {c.applicant.name for c in listed.rows} == expected
    assert (listed.total, listed.capped, listed.has_next) == (len(expected), False, False)


@pytest.fixture
def quoted_case(session, agency, users):
    """A case whose applicant, number and letters are what a caller or a 复议机关 would quote."""
    from dataclasses import replace

    from .helpers_cases import registration
    register(session, users, MON, name="李四", id_number="", items=[("公共租赁住房分配名单", "保障性住房")])
    form = registration(submitted_on=MON, name="赵六", id_number="11010519491231002x",
                        items=[("地铁3号线环评报告", "城乡规划")])
    form = replace(form, applicant=replace(form.applicant, phone="139-1234-5678"))
    result = services.register_request(session, form, renderer=render, actor=users["clerk"], today=MON)
    case, code = result.case, result.query_code
    notice = services.request_supplement(session, case.id, items=["请写明文号"], renderer=render,
                                         actor=users["clerk"], today=MON).letter
    session.commit()
    return case, code, notice.doc_number


def test_a_case_is_found_by_what_people_quote(session, agency, quoted_case):
    case, code, doc_number = quoted_case
    assert doc_number and "〔" in case.reg_no
    year_open, year_close = case.reg_no.index("〔"), case.reg_no.index("〕")
    typed_numbers = [case.reg_no[:year_open] + o + case.reg_no[year_open + 1:year_close] + c
                     + case.reg_no[year_close + 1:] for o, c in ("[]", "【】", "()", "（）", "〔〕")]
    for q in [doc_number, doc_number.replace("〔", "[").replace("〕", "]"), "11010519491231002X", "1101051949",
              "13912345678", "139 1234 5678", "赵六", "环评报告", *typed_numbers]:
        assert [c.id for c in page_of(session, agency.id, CaseFilter(q=q), MON).rows] == [case.id], q
    for secret in (code, code.lower()):  # the query code is never searchable
        assert page_of(session, agency.id, CaseFilter(q=secret), MON).total == 0


def test_a_corrected_applicant_is_found_by_the_new_data_and_the_case_still_by_its_numbers(session, agency, users,
                                                                                          quoted_case):
    from engine.services import ApplicantForm

    case, _code, doc_number = quoted_case
    form = ApplicantForm(kind="NATURAL", name="赵六一", id_type="居民身份证", id_number="110105198001010016",
                         phone="13700001111", address="测试市解放路9号")
    services.update_applicant(session, case.id, form, actor=users["clerk"], today=MON)
    session.commit()
    for q in [case.reg_no, case.reg_no.replace("〔", "【").replace("〕", "】"), doc_number, "赵六一",
              "110105198001010016", "137 0000 1111", "环评报告"]:
        assert [c.id for c in page_of(session, agency.id, CaseFilter(q=q), MON).rows] == [case.id], q
    for old in ("13912345678", "11010519491231002X"):  # the corrected data no longer finds it
        assert page_of(session, agency.id, CaseFilter(q=old), MON).total == 0, old


def test_the_migration_gives_a_cut_search_text_its_numbers_back(db_url, session, agency, quoted_case):
    """Correcting an applicant used to cut the case's search text down to the name and the request; the migration
    that made the search read that text alone rebuilds those texts, leaving the others as they are."""
    from sqlalchemy import select

    from engine.persistence.models import Case

    case, _code, doc_number = quoted_case
    whole = {c.id: c.search_text for c in session.scalars(select(Case))}
    cut = "赵六 地铁3号线环评报告"
    case.search_text = cut
    session.commit()
    session.close()
    migrate_again_from(db_url, "fewer_case_indexes")
    assert {c.id: c.search_text for c in session.scalars(select(Case))} == whole
    assert [c.id for c in page_of(session, agency.id, CaseFilter(q=doc_number), MON).rows] == [case.id]
