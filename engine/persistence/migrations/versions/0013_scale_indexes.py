"""Indexes for a million cases: 登记编号 by trigram, open cases by due date, applicants by name and phone, 文号

Revision ID: scale_indexes
Revises: api_scopes_idempotency
"""
import sqlalchemy as sa
from alembic import op

revision = "scale_indexes"
down_revision = "api_scopes_idempotency"
branch_labels = None
depends_on = None

# Every stage before the case is finished (engine.rules.workflow: not replied, closed or archived). The dashboard's
# lists and counts and the due-status filters only ever look at these few thousand rows.
_UNFINISHED = ("received", "registered", "awaiting_supplement", "in_handling", "consulting", "awaiting_fee",
               "drafting", "in_review", "signed")
_WHERE = sa.text("stage IN (" + ", ".join(f"'{s}'" for s in _UNFINISHED) + ")")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index("ix_cases_reg_no_trgm", "cases", ["reg_no"], postgresql_using="gin",
                        postgresql_ops={"reg_no": "gin_trgm_ops"})
    op.create_index("ix_cases_open_due", "cases", ["agency_id", "due_on", "id"], postgresql_where=_WHERE,
                    sqlite_where=_WHERE)
    op.create_index("ix_applicants_name_phone", "applicants", ["name", "phone"])
    op.create_index("ix_letters_doc_number", "letters", ["doc_number"])


def downgrade() -> None:
    op.drop_index("ix_letters_doc_number", table_name="letters")
    op.drop_index("ix_applicants_name_phone", table_name="applicants")
    op.drop_index("ix_cases_open_due", table_name="cases")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_cases_reg_no_trgm", table_name="cases")
