"""Alembic environment: the URL comes from the config set by engine.persistence.db (or GONGKAI_DATABASE_URL)."""

from alembic import context
from sqlalchemy import pool

from engine.config import load_settings
from engine.persistence.db import make_engine
from engine.persistence.models import Base

config = context.config
target_metadata = Base.metadata


_POSTGRESQL_ONLY_INDEXES = ("ix_cases_search_text_trgm",)
_SQLITE_ONLY_INDEXES = ("ix_cases_agency_received",)


def _include_object_for(dialect: str):
    def include_object(obj, name, type_, reflected, compare_to) -> bool:
        """The search structures are dialect-specific: SQLite's FTS5 table (and its shadow tables) is kept by the
        migration, not mapped; the trigram GIN index exists on PostgreSQL only; the list's order comes from an
        index of each dialect's own."""
        if type_ == "table" and name and name.startswith("cases_fts"):
            return False
        if type_ != "index":
            return True
        return not (name in _POSTGRESQL_ONLY_INDEXES and dialect != "postgresql"
                    or name in _SQLITE_ONLY_INDEXES and dialect != "sqlite")

    return include_object


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or load_settings().database_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True, compare_type=True,
                      include_object=_include_object_for(_url().split(":", 1)[0].split("+", 1)[0]))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = make_engine(_url(), poolclass=pool.NullPool)
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connectable)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True, include_object=_include_object_for(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
