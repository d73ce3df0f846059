"""Keyed audit chain with state digests, the seal image in the database, per-user session generation, login throttles

Existing chains are re-keyed by `gongkai db upgrade` after this schema step (engine.persistence.audit_rekey):
agencies keep `audit_chain_version = 1` until then. Seal images named by a file path are read into the database
here; a path that no longer exists leaves the agency without a seal (as the renderer already treated it).

Revision ID: 0006
Revises: 0005
"""
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agencies") as batch:
        batch.add_column(sa.Column("seal_image_data", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("seal_image_sha256", sa.String(length=64), server_default="", nullable=False))
        batch.add_column(sa.Column("audit_chain_version", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("state_digest", sa.String(length=64), nullable=True))
    op.create_table(
        "login_throttles",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_allowed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttles")),
    )
    _seal_files_into_database()


def _seal_files_into_database() -> None:
    import hashlib

    bind = op.get_bind()
    agencies = sa.table("agencies", sa.column("id", sa.Integer), sa.column("seal_image", sa.String),
                        sa.column("seal_image_data", sa.LargeBinary), sa.column("seal_image_sha256", sa.String))
    for agency_id, path in bind.execute(sa.select(agencies.c.id, agencies.c.seal_image)
                                        .where(agencies.c.seal_image.is_not(None))).all():
        file = Path(path)
        if not file.is_file():
            continue
        content = file.read_bytes()
        bind.execute(agencies.update().where(agencies.c.id == agency_id).values(
            seal_image_data=content, seal_image_sha256=hashlib.sha256(content).hexdigest()))


def downgrade() -> None:
    op.drop_table("login_throttles")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("state_digest")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_generation")
    with op.batch_alter_table("agencies") as batch:
        batch.drop_column("audit_chain_version")
        batch.drop_column("seal_image_sha256")
        batch.drop_column("seal_image_data")
