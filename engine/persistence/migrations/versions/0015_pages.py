"""The pages staff open all day at a million cases: the case list in its default order straight from an index,
letters waiting for delivery in date order,
a year's statistics from indexes

Revision ID: pages
Revises: fee_payment_receipt
"""
import sqlalchemy as sa
from alembic import op

revision = "pages"
down_revision = "fee_payment_receipt"
branch_labels = None
depends_on = None


_NOT_RECEIPT = sa.text("letter_type <> 'receipt'")


def upgrade() -> None:
    # The dashboard's letters waiting for delivery (every type but the 登记回执), oldest first, and the two checks
    # per letter: a delivery of it, a correction superseding it.
    op.create_index("ix_letters_to_deliver", "letters", ["issued_on", "id"], postgresql_where=_NOT_RECEIPT,
                    sqlite_where=_NOT_RECEIPT)
    op.create_index("ix_letters_supersedes_id", "letters", ["supersedes_id"])
    op.create_index("ix_deliveries_letter_id", "deliveries", ["letter_id"])
    op.create_index("ix_cases_agency_received_channel", "cases", ["agency_id", "received_on", "channel"])
    op.create_index("ix_cases_agency_finished", "cases", ["agency_id", "finished_on", "received_on", "due_on"])
    op.create_index("ix_case_items_case_topic", "case_items", ["case_id", "topic"])
    # Newest received first, undated last, then id: the order of the list's first page. PostgreSQL cannot read the
    # ascending index backwards for DESC NULLS LAST; SQLite (NULLs lowest) reads ix_cases_agency_received backwards.
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_cases_agency_received_desc", "cases",
                        ["agency_id", sa.text("received_on DESC NULLS LAST"), sa.text("id DESC")])


def downgrade() -> None:
    op.drop_index("ix_case_items_case_topic", table_name="case_items")
    op.drop_index("ix_cases_agency_finished", table_name="cases")
    op.drop_index("ix_cases_agency_received_channel", table_name="cases")
    op.drop_index("ix_deliveries_letter_id", table_name="deliveries")
    op.drop_index("ix_letters_supersedes_id", table_name="letters")
    op.drop_index("ix_letters_to_deliver", table_name="letters")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_cases_agency_received_desc", table_name="cases")
