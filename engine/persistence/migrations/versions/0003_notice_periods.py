"""Periods from the addressee's receipt (条例30、32、34、35; 109号): consultation letters and items, nullable fee
dates until the notice's delivery, the 条例35 request for reasons and delayed deadline, the reason a responsible
agency cannot be named (条例36(五))

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("reason_requested_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("reason_period_working_days", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reason_due_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("reason_answered_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("reason_answer", sa.String(20), nullable=True))
        batch.add_column(sa.Column("reason_answer_summary", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("delay_due_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("delay_reason", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("case_items") as batch:
        batch.add_column(sa.Column("referral_unknown_reason", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("consultations") as batch:
        batch.add_column(sa.Column("letter_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("item_seqs", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("party_is_person", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_foreign_key("fk_consultations_letter_id_letters", "letters", ["letter_id"], ["id"])
    with op.batch_alter_table("fees") as batch:
        batch.alter_column("notice_received_on", existing_type=sa.Date(), nullable=True)
        batch.alter_column("pay_by_on", existing_type=sa.Date(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("fees") as batch:
        batch.alter_column("pay_by_on", existing_type=sa.Date(), nullable=False)
        batch.alter_column("notice_received_on", existing_type=sa.Date(), nullable=False)
    with op.batch_alter_table("consultations") as batch:
        batch.drop_constraint("fk_consultations_letter_id_letters", type_="foreignkey")
        batch.drop_column("party_is_person")
        batch.drop_column("item_seqs")
        batch.drop_column("letter_id")
    with op.batch_alter_table("case_items") as batch:
        batch.drop_column("referral_unknown_reason")
    with op.batch_alter_table("cases") as batch:
        for name in ("delay_reason", "delay_due_on", "reason_answer_summary", "reason_answer", "reason_answered_on",
                     "reason_due_on", "reason_period_working_days", "reason_requested_on"):
            batch.drop_column(name)
