"""Three indexes of `cases` that a wider index already serves are dropped: every case written (a registration, each
action's update, a ledger import of 100,000 cases) kept them up to date for no query. `handler_id` is the head of
ix_cases_handler_stage, `finished_on` the head of ix_cases_report; (agency_id, received_on) is the head of
ix_cases_agency_received_channel, and PostgreSQL reads the list's order from ix_cases_agency_received_desc. SQLite
keeps ix_cases_agency_received: it reads the list's order (received_on DESC, id DESC) from it backwards, which the
channel index, ordered by channel within a day, cannot give. The handler's and the department's indexes leave out
the cases without one (each new case, every imported one): a query naming a handler or a department implies it
(issue 14)

Revision ID: fewer_case_indexes
Revises: letters_awaiting_delivery
"""
import sqlalchemy as sa
from alembic import op

revision = "fewer_case_indexes"
down_revision = "letters_awaiting_delivery"
branch_labels = None
depends_on = None


_HANDLED = sa.text("handler_id IS NOT NULL")
_IN_DEPARTMENT = sa.text("department_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_cases_handler_id", table_name="cases")
    op.drop_index("ix_cases_finished_on", table_name="cases")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_cases_agency_received", table_name="cases")
    op.drop_index("ix_cases_handler_stage", table_name="cases")
    op.create_index("ix_cases_handler_stage", "cases", ["handler_id", "stage"], postgresql_where=_HANDLED,
                    sqlite_where=_HANDLED)
    op.drop_index("ix_cases_department_id", table_name="cases")
    op.create_index("ix_cases_department_id", "cases", ["department_id"], postgresql_where=_IN_DEPARTMENT,
                    sqlite_where=_IN_DEPARTMENT)


def downgrade() -> None:
    op.drop_index("ix_cases_department_id", table_name="cases")
    op.create_index("ix_cases_department_id", "cases", ["department_id"])
    op.drop_index("ix_cases_handler_stage", table_name="cases")
    op.create_index("ix_cases_handler_stage", "cases", ["handler_id", "stage"])
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_cases_agency_received", "cases", ["agency_id", "received_on"])
    op.create_index("ix_cases_finished_on", "cases", ["finished_on"])
    op.create_index("ix_cases_handler_id", "cases", ["handler_id"])
