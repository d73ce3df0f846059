"""The jobs' state index also orders them by id, so that the embedded runner takes the oldest queued job from the
index instead of sorting every queued one (issue 14). `next_queued` (`WHERE state = 'queued' … ORDER BY id LIMIT
1`) read all the queued rows and sorted them for each job it ran: 1.6 ms with 4,600 receipts waiting after a burst
of registrations, and in proportion to the backlog, so a large backlog drained in quadratic time. With (state, id)
the first queued row in id order is the first index entry; lookups by state alone use the same index.

Revision ID: jobs_in_queue_order
Revises: fewer_prefix_indexes
"""
from alembic import op

revision = "jobs_in_queue_order"
down_revision = "fewer_prefix_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_jobs_state_id", "jobs", ["state", "id"])
    op.drop_index("ix_jobs_state", table_name="jobs")


def downgrade() -> None:
    op.create_index("ix_jobs_state", "jobs", ["state"])
    op.drop_index("ix_jobs_state_id", table_name="jobs")
