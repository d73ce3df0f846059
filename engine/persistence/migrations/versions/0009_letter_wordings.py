"""Agency wording of letters: versioned slot texts per agency and letter type, and the version each letter used

Revision ID: 0009
Revises: search_text_rebuild
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "search_text_rebuild"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "letter_wordings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("letter_type", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("slots", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("version > 0", name=op.f("ck_letter_wordings_version_positive")),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_letter_wordings_agency_id_agencies")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_letter_wordings_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_letter_wordings")),
        sa.UniqueConstraint("agency_id", "letter_type", "version", name="uq_letter_wordings_agency_type_version"),
    )
    with op.batch_alter_table("letters") as batch:
        batch.add_column(sa.Column("wording_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("letters") as batch:
        batch.drop_column("wording_version")
    op.drop_table("letter_wordings")
