"""Searching by 登记编号 or 文号 asks the trigram index for the number's last word only (the sequence number: its
trigrams are rare, 依申请〔20… is in every case) and compares the whole query on the rows found: the matches must be
exactly those of the plain substring search, in any bracket style, in part or whole, and where the number is quoted
in another case's request text."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bench.generate_cases import generate
from engine.persistence.models import Case, Letter
from engine.rules.search import normalise_search_text
from engine.services.case_list import CaseCriteria, case_ids_matching, index_piece
from engine.services.search_text import refresh_search_text
from tests.conftest import TODAY

STYLES = (("〔", "〕"), ("[", "]"), ("【", "】"), ("（", "）"), ("(", ")"))


def _styled(number: str, style: tuple[str, str]) -> str:
    return number.replace("〔", style[0]).replace("〕", style[1])


def _queries(number: str) -> list[str]:
    """What people type for a number: whole in every bracket style, without its prefix, without 号, its year and
    sequence, the sequence alone."""
    head, _, tail = number.partition("〔")
    year, _, seq = tail.partition("〕")
    return [*(_styled(number, s) for s in STYLES), f"〔{tail}", f"[{year}]{seq}", number[:-1], seq, f"{year}〕{seq[:1]}",
            f"{head[-2:]}〔{year}〕", f" {number} "]


@pytest.fixture
def numbered(session):
    """Cases with letters, some of whose requests quote other cases' numbers (in other bracket styles)."""
    agency = generate(session, count=60, today=TODAY)
    cases = session.scalars(select(Case).where(Case.agency_id == agency.id).order_by(Case.id)).all()
    letters = session.scalars(select(Letter).join(Case, Case.id == Letter.case_id)
                              .where(Case.agency_id == agency.id, Letter.doc_number != "")).all()
    for n, case in enumerate(cases[:12]):
        quoted = cases[-1 - n].reg_no if n % 2 else letters[n % len(letters)].doc_number
        case.items[0].description = f"请公开{_styled(quoted, STYLES[n % len(STYLES)])}的答复及其依据"
        refresh_search_text(session, case)
    session.flush()
    return agency, cases, [letter.doc_number for letter in letters]


def test_a_number_search_finds_exactly_what_the_substring_search_finds(session, numbered):
    agency, cases, doc_numbers = numbered
    dialect = session.get_bind().dialect.name
    numbers = [c.reg_no for c in cases[::5]] + doc_numbers[::4]
    queries = [q for number in numbers for q in _queries(number)]
    assert any(index_piece(normalise_search_text(q)) != normalise_search_text(q) for q in queries)
    for q in queries:
        found = set(session.scalars(case_ids_matching(agency.id, CaseCriteria(q=q), TODAY, dialect)))
        text = normalise_search_text(q).lower()
        expected = {c.id for c in cases if text in c.search_text.lower()}
        assert found == expected, q
        assert {c.id for c in cases if q.strip().lower() in c.reg_no.lower()} <= found, q  # the number's own case
        assert expected or len(text) < 3, q


def test_a_number_quoted_in_a_request_finds_that_case_too(session, numbered):
    agency, cases, _doc_numbers = numbered
    dialect = session.get_bind().dialect.name
    quoting, quoted = cases[1], cases[-2]     # the fixture's second case quotes the second-to-last's number
    for style in STYLES:
        found = set(session.scalars(case_ids_matching(agency.id, CaseCriteria(q=_styled(quoted.reg_no, style)),
                                                      TODAY, dialect)))
        assert found == {quoting.id, quoted.id}, style


def test_the_index_is_asked_for_the_last_word_of_a_query_of_several_with_a_short_one_s_bracket():
    assert index_piece("依申请〔2026〕1205号") == "1205号"
    assert index_piece("依申请〔2026〕45号") == "〕45号"
    assert index_piece("基准政办公开〔2026〕7号") == "〕7号"
    assert index_piece("〔2026〕") == "〔2026〕"
    assert index_piece("征收补偿") == "征收补偿"
    assert index_piece("老旧小区 改造") == " 改造"
