"""The pages staff open all day at a million cases: the case list in its default order straight from an index

Revision ID: pages
Revises: fee_payment_receipt
"""
import sqlalchemy as sa
from alembic import op

revision = "pages"
down_revision = "fee_payment_receipt"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Newest received first, undated last, then id: the order of the list's first page. PostgreSQL cannot read the
    # ascending index backwards for DESC NULLS LAST; SQLite (NULLs lowest) reads ix_cases_agency_received backwards.
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_cases_agency_received_desc", "cases",
                        ["agency_id", sa.text("received_on DESC NULLS LAST"), sa.text("id DESC")])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_cases_agency_received_desc", table_name="cases")
