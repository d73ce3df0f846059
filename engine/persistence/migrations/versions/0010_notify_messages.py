"""Notifications: the messages outbox and log, staff e-mail addresses and digest choice, job backoff

Revision ID: notify_messages
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "notify_messages"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("channel IN ('email', 'sms')", name=op.f("ck_messages_channel_valid")),
        sa.CheckConstraint("status IN ('queued', 'sent', 'failed', 'suppressed')",
                           name=op.f("ck_messages_status_valid")),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_messages_agency_id_agencies")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_messages_case_id_cases")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_messages_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_messages_dedup_key")),
    )
    op.create_index(op.f("ix_messages_agency_id"), "messages", ["agency_id"])
    op.create_index(op.f("ix_messages_case_id"), "messages", ["case_id"])
    op.create_index(op.f("ix_messages_user_id"), "messages", ["user_id"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email", sa.String(length=120), server_default="", nullable=False))
        batch.add_column(sa.Column("digest_enabled", sa.Boolean(), server_default=sa.true(), nullable=False))
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("run_after", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("run_after")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("digest_enabled")
        batch.drop_column("email")
    op.drop_index(op.f("ix_messages_user_id"), table_name="messages")
    op.drop_index(op.f("ix_messages_case_id"), table_name="messages")
    op.drop_index(op.f("ix_messages_agency_id"), table_name="messages")
    op.drop_table("messages")
