"""On PostgreSQL the engine's cursors build `cursor.description`'s Column objects only when they are read: a
statement SQLAlchemy has cached builds none, and whatever reads them sees exactly psycopg's own."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from engine.persistence.models import Case
from tests.integration import helpers_cases as h


@pytest.fixture
def pg(session):
    if session.get_bind().dialect.driver != "psycopg":
        pytest.skip("psycopg's cursors: PostgreSQL only")
    return session


def test_the_engine_s_connections_use_the_lazy_cursor(pg):
    from engine.persistence.pg_cursor import LazyDescriptionCursor

    assert isinstance(pg.connection().connection.dbapi_connection.cursor(), LazyDescriptionCursor)


def test_a_cached_statement_builds_no_column_objects(pg, users, today, monkeypatch):
    import psycopg

    case, _ = h.register(pg, users, today)
    pg.commit()
    statement = select(Case).where(Case.id == case.id)
    pg.expunge_all()
    pg.execute(statement).scalar_one()  # compiled and its result metadata cached
    built = []
    original = psycopg.Column.__init__
    monkeypatch.setattr(psycopg.Column, "__init__", lambda self, *a: built.append(1) or original(self, *a))
    pg.expunge_all()
    found = pg.execute(statement).scalar_one()
    assert found.reg_no == case.reg_no and found.applicant.name == case.applicant.name
    assert built == []
    assert pg.execute(text("SELECT 1 AS one, 'x' AS letter")).mappings().one() == {"one": 1, "letter": "x"}
    assert built  # textual SQL names its columns from the description: read, so built


def test_the_description_read_is_psycopg_s_own_and_only_for_the_result_it_describes(pg):
    import psycopg

    raw = pg.connection().connection.dbapi_connection
    query = "SELECT id, reg_no, received_on, search_text FROM cases LIMIT 1"
    plain = psycopg.Cursor(raw)
    plain.execute(query)
    lazy = raw.cursor()
    lazy.execute(query)
    description = lazy.description
    assert len(description) == 4 and description is not None
    assert [tuple(c) for c in description] == [tuple(c) for c in plain.description]
    assert [c.name for c in description] == ["id", "reg_no", "received_on", "search_text"]
    unread = lazy.execute(query).description
    lazy.execute("SELECT 1")
    with pytest.raises(RuntimeError):  # its Column objects would describe the cursor's current result
        list(unread)
    assert [c.name for c in description] == ["id", "reg_no", "received_on", "search_text"]  # read in time: kept
    lazy.execute("SET LOCAL statement_timeout = 0")
    assert lazy.description is None and plain.execute("SET LOCAL statement_timeout = 0").description is None
