"""An audit event's changes are compressed with lz4 on PostgreSQL, where the server has it (issue 14). The ledger
import's event holds every imported case's state digest (7.6 MB for 100,000 cases), which pglz, the default,
spent 0.19–0.22 s trying to compress before storing it as it was (hex digests do not compress under its rules);
lz4 takes 0.06 s. Values already stored keep their form; a server without lz4 keeps pglz.

Revision ID: audit_changes_lz4
Revises: search_text_alone
"""
import sqlalchemy as sa
from alembic import op

revision = "audit_changes_lz4"
down_revision = "search_text_alone"
branch_labels = None
depends_on = None


def _has_lz4(bind) -> bool:
    return bool(bind.scalar(sa.text(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")))


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and _has_lz4(bind):
        op.execute("ALTER TABLE audit_events ALTER COLUMN changes SET COMPRESSION lz4")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_events ALTER COLUMN changes SET COMPRESSION default")
