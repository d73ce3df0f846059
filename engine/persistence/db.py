"""Database engine, sessions and migrations. Callers own the transaction; services only flush."""

from __future__ import annotations

import select as selectmod
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

from engine.config import load_settings
from engine.persistence import guards  # noqa: F401 - registers the flush-time text guard

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str, *, sqlite_page_cache_kib: int | None = None, **kwargs) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout so web workers can share it, and, when
    `sqlite_page_cache_kib` is given, that page cache per connection instead of SQLite's 2 MiB."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            if sqlite_page_cache_kib is not None:
                cur.execute(f"PRAGMA cache_size=-{int(sqlite_page_cache_kib)}")
            cur.close()

        return engine
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        event.listen(engine, "checkout", _refuse_closed_connection)
    if engine.dialect.driver == "psycopg":
        from engine.persistence.pg_cursor import use_lazy_description

        event.listen(engine, "connect", lambda dbapi_conn, _record: use_lazy_description(dbapi_conn))
    return engine


def _refuse_closed_connection(dbapi_conn, _record, _proxy) -> None:
    """Pool checkout: hand out a pooled PostgreSQL connection only if the server has not closed it.

    Instead of a round trip per checkout (`pool_pre_ping`, a sixth of a short API read), look at the socket: an
    idle connection between transactions has nothing to read, so a readable socket means the server sent its
    farewell (restart, `pg_terminate_backend`, idle timeout) or closed it. DisconnectionError makes the pool
    discard this connection and check out another (SQLAlchemy's "custom pessimistic ping"). A connection broken
    without the server saying so (a cable pulled) still fails its first statement; the request then answers 503
    and the pool reconnects (optimistic handling)."""
    pgconn = getattr(dbapi_conn, "pgconn", None)
    if pgconn is None:  # not psycopg 3
        return
    if dbapi_conn.closed or pgconn.status != 0:  # 0: CONNECTION_OK
        raise exc.DisconnectionError("the database connection is closed")
    poller = selectmod.poll()
    poller.register(pgconn.socket, selectmod.POLLIN | selectmod.POLLERR | selectmod.POLLHUP)
    if poller.poll(0):
        raise exc.DisconnectionError("the database server closed the connection")


@lru_cache(maxsize=4)
def default_engine(url: str | None = None) -> Engine:
    return make_engine(url or load_settings().database_url)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine | None = None) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    session = session_factory(engine or default_engine())()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> list[str]:
    """Migrate the schema; at head, re-key audit chains written before the key existed (see audit_rekey)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)
    if revision != "head":
        return []
    from engine.persistence.audit_rekey import rekey_legacy_chains

    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            return rekey_legacy_chains(session)
    finally:
        engine.dispose()


def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def create_database(url: str, name: str) -> str:
    """A new, empty PostgreSQL database `name` beside the one `url` names (dropped first if it exists); its URL.

    For test workers and benchmarks, which each need a database of their own on the same server."""
    from sqlalchemy import make_url, text

    parsed = make_url(url)
    admin = make_engine(parsed.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop the PostgreSQL database `url` names, closing its connections (from the server's `postgres` database)."""
    from sqlalchemy import make_url, text

    parsed = make_url(url)
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False),
                        isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    finally:
        admin.dispose()
