"""A fee payment records the amount paid and the receipt's number (票据号), not only the day

Revision ID: fee_payment_receipt
Revises: scale_indexes
"""
import sqlalchemy as sa
from alembic import op

revision = "fee_payment_receipt"
down_revision = "scale_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("fees") as batch:
        batch.add_column(sa.Column("paid_amount_yuan", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("payment_receipt_no", sa.String(length=100), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("fees") as batch:
        batch.drop_column("payment_receipt_no")
        batch.drop_column("paid_amount_yuan")
