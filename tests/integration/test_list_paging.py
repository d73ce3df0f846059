"""The case list counts its matches only up to a cap (「1000+ 件」 beyond it) and still pages exactly, past the cap
too: every page is the slice of the whole ordered list, and 下一页 is offered exactly when a case follows."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bench.generate_cases import PASSWORD, generate
from engine.persistence.models import Agency, Case
from tests.conftest import TODAY
from webui import case_queries
from webui.case_queries import SORTS, CaseFilter, page_of

CAP, SIZE = 7, 4


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(case_queries, "COUNT_CAP", CAP)
    monkeypatch.setattr(case_queries, "PAGE_SIZE", SIZE)
    return CAP


@pytest.fixture(params=[CAP, 1000], ids=["over the cap", "under the cap"])
def cap(request, monkeypatch):
    """Pages read in the database's order (more matches than the cap) or put in order from the counted matches."""
    monkeypatch.setattr(case_queries, "COUNT_CAP", request.param)
    monkeypatch.setattr(case_queries, "PAGE_SIZE", SIZE)
    return request.param


@pytest.fixture
def bench_agency(session):
    generate(session, count=40, today=TODAY)
    return session.scalar(select(Agency).where(Agency.code == "BENCH"))


def _all_in_order(session, agency_id, f: CaseFilter) -> list[int]:
    """Every match, computed case by case in Python and put in the list's order."""
    cases = [c for c in session.scalars(select(Case).where(Case.agency_id == agency_id))
             if (not f.stage or c.stage == f.stage) and (not f.applicant_kind or c.applicant.kind == f.applicant_kind)]
    key = {"received_desc": lambda c: (c.received_on is None, -(c.received_on.toordinal() if c.received_on else 0),
                                       -c.id),
           "received_asc": lambda c: (c.received_on is None, c.received_on.toordinal() if c.received_on else 0, c.id),
           "due_asc": lambda c: (c.due_on is None, c.due_on.toordinal() if c.due_on else 0, c.id),
           "reg_no": lambda c: (-c.reg_year, -c.reg_seq)}[f.sort]
    return [c.id for c in sorted(cases, key=key)]


def test_each_page_is_its_slice_of_the_whole_list_and_the_count_stops_at_the_cap(session, bench_agency, cap):
    for sort in SORTS:
        for criteria in ({}, {"applicant_kind": "NATURAL"}, {"stage": "replied"}, {"stage": "signed"}):
            base = CaseFilter(sort=sort, **criteria)
            expected = _all_in_order(session, bench_agency.id, base)
            last_page = max(1, -(-len(expected) // SIZE)) + 1  # one page past the end (beyond the cap if any)
            for page in range(1, last_page + 1):
                listed = page_of(session, bench_agency.id, CaseFilter(sort=sort, page=page, **criteria), TODAY)
                where = (sort, criteria, page)
                assert [c.id for c in listed.rows] == expected[(page - 1) * SIZE:page * SIZE], where
                assert listed.capped == (len(expected) > cap), where
                assert listed.total == min(len(expected), cap), where
                assert listed.has_next == (len(expected) > page * SIZE), where
                assert listed.pages == (None if listed.capped else max(1, -(-len(expected) // SIZE))), where


def test_the_count_is_exact_at_the_cap_and_capped_one_past_it(session, bench_agency, monkeypatch):
    everything = len(_all_in_order(session, bench_agency.id, CaseFilter()))
    monkeypatch.setattr(case_queries, "COUNT_CAP", everything)
    listed = page_of(session, bench_agency.id, CaseFilter(), TODAY)
    assert (listed.total, listed.capped) == (everything, False)
    monkeypatch.setattr(case_queries, "COUNT_CAP", everything - 1)
    listed = page_of(session, bench_agency.id, CaseFilter(), TODAY)
    assert (listed.total, listed.capped) == (everything - 1, True)


def test_the_page_says_more_than_the_cap_and_offers_the_next_page_past_it(db_url, session, small_pages):
    from webui.app import create_app
    from webui.db import get_engine

    generate(session, count=40, today=TODAY)
    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "q", "WTF_CSRF_ENABLED": False, "GONGKAI_TODAY": TODAY})
    client = app.test_client()
    assert client.post("/login", data={"username": "bench_clerk", "password": PASSWORD}).status_code == 302
    try:
        first = client.get("/cases").get_data(as_text=True)
        assert f"共 {CAP}+ 件" in first and "下一页" in first and "上一页" not in first
        beyond = client.get("/cases?page=3").get_data(as_text=True)  # cases 9–12: past the cap of 7
        assert f"共 {CAP}+ 件" in beyond and "第 3 页" in beyond and "上一页" in beyond and "下一页" in beyond
        rare = client.get("/cases?q=" + "罕见词汇甲乙丙").get_data(as_text=True)
        assert "共 1 件" in rare and "下一页" not in rare
    finally:
        with app.app_context():
            get_engine().dispose()


def test_a_search_without_letters_finds_exactly_the_cases_whose_text_holds_it(session, bench_agency):
    """Such a query is compared with LIKE, not ILIKE: the matches must be those of the substring case by case."""
    from engine.rules.search import normalise_search_text
    from engine.services.case_list import CaseCriteria, cases_matching

    cases = session.scalars(select(Case).where(Case.agency_id == bench_agency.id)).all()
    some = cases[len(cases) // 2]
    phone = some.applicant.phone
    dialect = session.get_bind().dialect.name
    for q in ("征收补偿", "补偿方案", "〔2025〕", some.reg_no, some.reg_no[-4:], phone[-6:] if phone else "138",
              "罕见词汇甲乙丙", "不存在的内容"):
        found = {c.id for c in session.scalars(cases_matching(bench_agency.id, CaseCriteria(q=q), TODAY, dialect))}
        text = normalise_search_text(q)
        assert found == {c.id for c in cases if text in c.search_text or q in c.reg_no}, q
