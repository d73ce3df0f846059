"""One database session per request, bound to the app's engine; committed once after a successful POST. A request
that only reads (`read_only`) gets a session that runs outside a transaction on PostgreSQL and refuses every write."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from engine.persistence.db import make_engine, session_factory

_EXTENSION_KEY = "gongkai_db"


class ReadOnlyViolation(RuntimeError):
    """A request declared read-only (`read_only`) tried to write: a programming error, never a user's."""


# SQLite keeps a page cache in each connection (2 MiB by default) and a web worker pools up to a connection per
# thread: on a 100k-case database that cache took a gunicorn worker to 113-120 MiB after the scale benchmark's
# mixed requests, 103-108 MiB with 256 KiB, and the pages were no slower (the operating system caches the file
# anyway). The CLI and the background worker keep SQLite's default; a ledger uploaded on the page is imported with
# the smaller cache (17.6 s instead of 16.0 s for 100,000 rows in one measurement, within this machine's noise).
WEB_SQLITE_PAGE_CACHE_KIB = 256


def init_app(app: Flask) -> None:
    """Create the app's engine and session factory; close (and roll back) the session after each request."""
    url = app.config.get("DATABASE_URL")
    if not url:
        from engine.config import load_settings

        url = load_settings().database_url
        app.config["DATABASE_URL"] = url
    engine = app.config.get("DATABASE_ENGINE") or make_engine(url, sqlite_page_cache_kib=WEB_SQLITE_PAGE_CACHE_KIB)
    app.extensions[_EXTENSION_KEY] = (engine, session_factory(engine), _read_only_factory(engine))
    app.teardown_appcontext(_close_session)


def _read_only_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions of requests that only read. On PostgreSQL their statements run in autocommit: no BEGIN and no
    ROLLBACK, two of the five round trips of a short API read (each statement sees the data committed when it
    starts, as in the READ COMMITTED transaction it replaces). Whatever the database, a flush or an INSERT, UPDATE
    or DELETE raises ReadOnlyViolation: without a transaction it would not be undone, nor done as one unit."""
    bind = engine.execution_options(isolation_level="AUTOCOMMIT") if engine.dialect.name == "postgresql" else engine
    factory = session_factory(bind)
    event.listen(factory, "before_flush", _refuse_flush)
    event.listen(factory, "do_orm_execute", _refuse_writing_statement)
    return factory


def _refuse_flush(session, _flush_context, _instances) -> None:
    raise ReadOnlyViolation("只读请求不能写入数据库（flush）")


def _refuse_writing_statement(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise ReadOnlyViolation("只读请求不能写入数据库（INSERT/UPDATE/DELETE）")


def get_engine() -> Engine:
    return current_app.extensions[_EXTENSION_KEY][0]


def get_session() -> Session:
    """The request's session (created on first use): read-only if the request said so first (`read_only`)."""
    if "db_session" not in g:
        factories = current_app.extensions[_EXTENSION_KEY]
        g.db_session = (factories[2] if g.get("db_read_only") else factories[1])()
    return g.db_session


def read_only() -> None:
    """This request only reads: its session, created after this, runs without a transaction and refuses writes
    (`_read_only_factory`). Called before the session exists; afterwards it changes nothing."""
    if "db_session" not in g:
        g.db_read_only = True


def is_read_only() -> bool:
    return bool(g.get("db_read_only"))


def writable() -> None:
    """This request may write after all: the read-only session, if one was opened, is closed (what it loaded is
    detached: read it again), and the next `get_session` opens a transactional one."""
    g.db_read_only = False
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def commit() -> None:
    """Commit the request's work now (the request boundary does this; login failures need it early)."""
    if "db_session" in g:
        g.db_session.commit()


def _close_session(exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is None:
        return
    try:
        if session.in_transaction():
            session.rollback()
    finally:
        session.close()


def commit_successful_writes(response):
    """after_request: a POST that ended in a success or a redirect commits; anything else rolls back (a read that
    wrote an audit event, e.g. personal data shown in full, sets `g.db_commit_read`)."""
    from flask import request

    session = g.get("db_session")
    if session is None:
        return response
    writes = request.method in ("POST", "PUT", "PATCH", "DELETE") or g.get("db_commit_read")
    if writes and response.status_code < 400 and not g.get("db_rollback"):
        session.commit()
    else:
        session.rollback()
    return response
