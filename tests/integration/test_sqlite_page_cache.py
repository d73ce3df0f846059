"""The web app's SQLite connections keep a small page cache (a worker pools a connection per thread); the CLI's and
the background worker's keep SQLite's default, which a ledger import's inserts use."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from engine.persistence.db import make_engine
from tests.conftest import TODAY
from webui import db as webdb
from webui.app import create_app

SQLITE_DEFAULT_KIB = 2000  # SQLite's compiled-in default: PRAGMA cache_size = -2000


def _cache_size(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("PRAGMA cache_size")).scalar_one()


def test_the_web_app_connections_use_the_small_page_cache_and_the_other_engines_the_default(db_url):
    if not db_url.startswith("sqlite"):
        pytest.skip("a SQLite setting")
    app = create_app({"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test", "GONGKAI_TODAY": TODAY})
    with app.app_context():
        engine = webdb.get_engine()
        try:
            with engine.connect() as first, engine.connect() as second:  # every pooled connection, not only one
                assert [c.execute(text("PRAGMA cache_size")).scalar_one() for c in (first, second)] == \
                    [-webdb.WEB_SQLITE_PAGE_CACHE_KIB] * 2
        finally:
            engine.dispose()
    other = make_engine(db_url)
    try:
        assert _cache_size(other) == -SQLITE_DEFAULT_KIB
    finally:
        other.dispose()
