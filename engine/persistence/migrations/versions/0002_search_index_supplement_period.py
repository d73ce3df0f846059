"""Trigram search over cases (pg_trgm / SQLite FTS5) and the supplement period chosen per case

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_FTS_TRIGGERS = {
    "cases_fts_ai": "AFTER INSERT ON cases BEGIN "
                    "INSERT INTO cases_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "cases_fts_ad": "AFTER DELETE ON cases BEGIN "
                    "INSERT INTO cases_fts(cases_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "cases_fts_au": "AFTER UPDATE OF search_text ON cases BEGIN "
                    "INSERT INTO cases_fts(cases_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
                    "INSERT INTO cases_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
}


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("supplement_period_working_days", sa.Integer(), nullable=True))
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index("ix_cases_search_text_trgm", "cases", ["search_text"], postgresql_using="gin",
                        postgresql_ops={"search_text": "gin_trgm_ops"})
    elif dialect == "sqlite":
        op.execute("CREATE VIRTUAL TABLE cases_fts USING fts5(search_text, content='cases', content_rowid='id', "
                   "tokenize='trigram')")
        for name, body in _FTS_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        op.execute("INSERT INTO cases_fts(cases_fts) VALUES ('rebuild')")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.drop_index("ix_cases_search_text_trgm", table_name="cases")
    elif dialect == "sqlite":
        for name in _FTS_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS cases_fts")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("supplement_period_working_days")
