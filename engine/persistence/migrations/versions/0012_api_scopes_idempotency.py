"""API tokens with scopes and an opt-in for full personal data; Idempotency-Key answers; cases by updated_at

Revision ID: api_scopes_idempotency
Revises: webhooks
"""
import sqlalchemy as sa
from alembic import op

revision = "api_scopes_idempotency"
down_revision = "webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("scope", sa.String(length=10), server_default="full", nullable=False))
        batch.add_column(sa.Column("personal_data", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.create_check_constraint("scope_valid", "scope IN ('full', 'read', 'portal')")
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("location", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["token_id"], ["api_tokens.id"], name=op.f("fk_idempotency_keys_token_id_api_tokens")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("token_id", "key", name="uq_idempotency_keys_token_key"),
    )
    op.create_index(op.f("ix_idempotency_keys_created_at"), "idempotency_keys", ["created_at"])
    op.create_index("ix_cases_agency_updated", "cases", ["agency_id", "updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_cases_agency_updated", table_name="cases")
    op.drop_index(op.f("ix_idempotency_keys_created_at"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_constraint(op.f("ck_api_tokens_scope_valid"), type_="check")
        batch.drop_column("personal_data")
        batch.drop_column("scope")
