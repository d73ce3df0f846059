"""Agency signing keys (certificate + encrypted private key) and the key that signed each letter

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("certificate_der", sa.LargeBinary(), nullable=False),
        sa.Column("chain_der", sa.JSON(), nullable=False),
        sa.Column("encrypted_private_key", sa.LargeBinary(), nullable=False),
        sa.Column("encryption_key_id", sa.String(length=16), nullable=False),
        sa.Column("fingerprint_sha256", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("self_issued", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_signing_keys_agency_id_agencies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_keys")),
        sa.UniqueConstraint("fingerprint_sha256", name=op.f("uq_signing_keys_fingerprint_sha256")),
    )
    op.create_index(op.f("ix_signing_keys_agency_id"), "signing_keys", ["agency_id"], unique=False)
    with op.batch_alter_table("letters") as batch:
        batch.add_column(sa.Column("signing_key_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f("fk_letters_signing_key_id_signing_keys"), "signing_keys",
                                 ["signing_key_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("letters") as batch:
        batch.drop_constraint(batch.f("fk_letters_signing_key_id_signing_keys"), type_="foreignkey")
        batch.drop_column("signing_key_id")
    op.drop_index(op.f("ix_signing_keys_agency_id"), table_name="signing_keys")
    op.drop_table("signing_keys")
