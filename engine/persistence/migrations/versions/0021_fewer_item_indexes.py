"""ix_case_items_case_id goes: uq_case_items_case_seq (case_id, seq) and ix_case_items_case_topic (case_id, topic)
both begin with `case_id` and serve every query by case, and the foreign key's checks. Each item written (every
registration, 100,000 in a ledger import) kept a third index for no query (issue 14).

Revision ID: fewer_item_indexes
Revises: audit_changes_lz4
"""
from alembic import op

revision = "fewer_item_indexes"
down_revision = "audit_changes_lz4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_case_items_case_id", table_name="case_items")


def downgrade() -> None:
    op.create_index("ix_case_items_case_id", "case_items", ["case_id"])
