"""The applicant's kind kept on the case, and the annual report's index: table 3 of a year read from one index
instead of joining every applicant (issue 14: the report at a million cases).

Revision ID: case_applicant_kind
Revises: pages
"""
import sqlalchemy as sa
from alembic import op

revision = "case_applicant_kind"
down_revision = "pages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite adds a NOT NULL column only with a default, and must not rebuild `cases` (its FTS triggers would go):
    # the default there is never used, every writer gives the kind.
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("cases", sa.Column("applicant_kind", sa.String(length=20), nullable=not sqlite,
                                     server_default="" if sqlite else None))
    op.execute("UPDATE cases SET applicant_kind = "
               "(SELECT applicants.kind FROM applicants WHERE applicants.id = cases.applicant_id)")
    if not sqlite:
        op.alter_column("cases", "applicant_kind", existing_type=sa.String(length=20), nullable=False)
    op.create_index("ix_cases_report", "cases",
                    ["finished_on", "received_on", "agency_id", "applicant_kind", "report_outcome"])


def downgrade() -> None:
    op.drop_index("ix_cases_report", table_name="cases")
    op.execute("ALTER TABLE cases DROP COLUMN applicant_kind")
