"""The annual report's text sections and table 二 figures per agency and year (国办公开办函〔2021〕30号)

Revision ID: annual_report_contents
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "annual_report_contents"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "annual_report_contents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("overview", sa.Text(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("other_matters", sa.Text(), nullable=False),
        sa.Column("proactive", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"],
                                name=op.f("fk_annual_report_contents_agency_id_agencies")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"],
                                name=op.f("fk_annual_report_contents_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annual_report_contents")),
        sa.UniqueConstraint("agency_id", "year", name="uq_annual_report_contents_agency_year"),
    )


def downgrade() -> None:
    op.drop_table("annual_report_contents")
