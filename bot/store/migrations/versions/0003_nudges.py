"""nudges and spaced review on learners (existing learners get empty defaults)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("learners", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("nudges_unanswered", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("last_nudge_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("asked_to_pause", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("handoff_open", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("next_nudge_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reviews", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.create_index(
            batch_op.f("ix_learners_next_nudge_at"), ["next_nudge_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("learners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_learners_next_nudge_at"))
        batch_op.drop_column("reviews")
        batch_op.drop_column("next_nudge_at")
        batch_op.drop_column("handoff_open")
        batch_op.drop_column("asked_to_pause")
        batch_op.drop_column("snoozed_until")
        batch_op.drop_column("paused_until")
        batch_op.drop_column("last_nudge_at")
        batch_op.drop_column("nudges_unanswered")
        batch_op.drop_column("last_activity_at")
