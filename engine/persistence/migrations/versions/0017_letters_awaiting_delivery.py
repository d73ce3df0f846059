"""Letters waiting for delivery read from an index of exactly those letters: the dashboard's list walked past the
letters already delivered and those of archived cases, oldest first — nearly every letter ever issued (issue 14:
the dashboard at a million cases); and a handler's tasks from an index of handler and stage (the handler's index
alone holds every case they ever handled)

Revision ID: letters_awaiting_delivery
Revises: case_applicant_kind
"""
import sqlalchemy as sa
from alembic import op

revision = "letters_awaiting_delivery"
down_revision = "case_applicant_kind"
branch_labels = None
depends_on = None

# As engine.persistence.models.AWAITING_DELIVERY states them (a migration keeps its own copy).
_INDEXED = {"postgresql": "awaiting_delivery AND letter_type <> 'receipt'",
            "sqlite": "awaiting_delivery = 1 AND letter_type <> 'receipt'"}
# Letters no delivery of which has arrived, of cases not archived (the 登记回执 are not kept: never delivered).
_WAITING = ("letter_type <> 'receipt' "
            "AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.letter_id = letters.id AND d.returned = {false}) "
            "AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = letters.case_id AND c.stage = 'archived')")


def upgrade() -> None:
    # Writers that do not name the column get true: a letter wrongly on the list is seen, one wrongly off it
    # would be forgotten. PostgreSQL adds the column as false, which rewrites nothing (the default is kept in the catalogue),
    # and sets it on the few letters still waiting; SQLite cannot change a column's default without rebuilding the
    # table, so it adds it as true and clears it on the others.
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("letters", sa.Column("awaiting_delivery", sa.Boolean(), nullable=False,
                                           server_default=sa.false()))
        op.execute("UPDATE letters SET awaiting_delivery = true WHERE " + _WAITING.format(false="false"))
        op.alter_column("letters", "awaiting_delivery", existing_type=sa.Boolean(), server_default=sa.true())
    else:
        op.add_column("letters", sa.Column("awaiting_delivery", sa.Boolean(), nullable=False,
                                           server_default=sa.true()))
        op.execute("UPDATE letters SET awaiting_delivery = 0 WHERE NOT (" + _WAITING.format(false="0") + ")")
    op.create_index("ix_letters_awaiting_delivery", "letters", ["issued_on", "id"],
                    postgresql_where=sa.text(_INDEXED["postgresql"]), sqlite_where=sa.text(_INDEXED["sqlite"]))
    op.create_index("ix_cases_handler_stage", "cases", ["handler_id", "stage"])


def downgrade() -> None:
    op.drop_index("ix_cases_handler_stage", table_name="cases")
    op.drop_index("ix_letters_awaiting_delivery", table_name="letters")
    op.execute("ALTER TABLE letters DROP COLUMN awaiting_delivery")
