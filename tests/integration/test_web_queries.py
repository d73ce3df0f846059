"""No query per row: the dashboard, the list and the case page issue the same number of queries for 20 or 80 cases."""

from __future__ import annotations

from sqlalchemy import event, select

from bench.generate_cases import PASSWORD, generate
from engine.persistence.models import Case, CaseItem
from tests.conftest import TODAY

PAGES = ("/", "/cases", "/cases?stage=in_handling&sort=due_asc", "/cases?q=批复&applicant_kind=NATURAL")


def _query_counts(db_url, urls) -> dict[str, int]:
    from webui.app import create_app
    from webui.db import get_engine

    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "q", "WTF_CSRF_ENABLED": False, "GONGKAI_TODAY": TODAY})
    counts = {}
    with app.app_context():
        engine = get_engine()
    client = app.test_client()
    assert client.post("/login", data={"username": "bench_clerk", "password": PASSWORD}).status_code == 302
    seen = []
    listener = lambda *args, **kwargs: seen.append(1)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        for url in urls:
            client.get(url)  # warm: the calendar and templates load once
            seen.clear()
            assert client.get(url).status_code == 200, url
            counts[url] = len(seen)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
        engine.dispose()
    return counts


def test_pages_issue_a_fixed_number_of_queries_whatever_the_number_of_cases(db_url, session):
    generate(session, count=20, today=TODAY)
    few = _query_counts(db_url, PAGES)
    generate(session, count=60, today=TODAY, seed=8)
    many = _query_counts(db_url, PAGES)
    assert few == many
    assert all(n <= 10 for n in many.values()), many


def test_the_case_page_issues_the_same_queries_for_one_item_or_three(db_url, session):
    generate(session, count=40, today=TODAY)
    rows = session.execute(select(Case.id, CaseItem.seq).join(CaseItem, CaseItem.case_id == Case.id)
                           .where(Case.stage == "in_handling")).all()
    items: dict[int, int] = {}
    for case_id, seq in rows:
        items[case_id] = max(items.get(case_id, 0), seq)
    one = next(c for c, n in items.items() if n == 1)
    several = next(c for c, n in items.items() if n >= 2)
    counts = _query_counts(db_url, [f"/cases/{one}", f"/cases/{several}"])
    assert counts[f"/cases/{one}"] == counts[f"/cases/{several}"] <= 20, counts
