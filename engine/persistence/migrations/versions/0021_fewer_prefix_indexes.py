"""Three indexes that a wider one begins with go, so that no row written keeps an index no query needs (issue 14):
ix_case_items_case_id (uq_case_items_case_seq (case_id, seq) and ix_case_items_case_topic begin with `case_id`:
every registration's items and the 100,000 of a ledger import kept a third index), ix_webhook_deliveries_endpoint_id
(uq_webhook_deliveries_endpoint_event, one row per event and endpoint) and ix_departments_agency_id
(uq_departments_agency_name). The unique indexes serve every query by those columns and the foreign keys' checks.

Revision ID: fewer_prefix_indexes
Revises: audit_changes_lz4
"""
from alembic import op

revision = "fewer_prefix_indexes"
down_revision = "audit_changes_lz4"
branch_labels = None
depends_on = None

_DROPPED = (("ix_case_items_case_id", "case_items", "case_id"),
            ("ix_webhook_deliveries_endpoint_id", "webhook_deliveries", "endpoint_id"),
            ("ix_departments_agency_id", "departments", "agency_id"))


def upgrade() -> None:
    for name, table, _column in _DROPPED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, column in _DROPPED:
        op.create_index(name, table, [column])
