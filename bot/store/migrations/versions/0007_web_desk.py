"""the volunteer desk in a browser: sign-in links, sessions, conversations

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("volunteers") as batch_op:
        batch_op.add_column(
            sa.Column("coordinator", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))
    with op.batch_alter_table("volunteer_invites") as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="telegram")
        )
    with op.batch_alter_table("handoffs") as batch_op:
        batch_op.add_column(sa.Column("volunteer_channel", sa.String(length=16), nullable=True))
    op.create_table(
        "desk_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("volunteer_id", ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_desk_sessions_volunteer_id", "desk_sessions", ["volunteer_id"])
    op.create_table(
        "handoff_messages",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("handoff_id", ID, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("author", sa.String(length=16), nullable=False),
        sa.Column("volunteer_id", ID, nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("media_kind", sa.String(length=16), nullable=True),
        sa.Column("media_ref", sa.String(length=300), nullable=True),
        sa.Column("media_data", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["handoff_id"], ["handoffs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_handoff_messages_handoff_id", "handoff_messages", ["handoff_id"])


def downgrade() -> None:
    op.drop_index("ix_handoff_messages_handoff_id", table_name="handoff_messages")
    op.drop_table("handoff_messages")
    op.drop_index("ix_desk_sessions_volunteer_id", table_name="desk_sessions")
    op.drop_table("desk_sessions")
    with op.batch_alter_table("handoffs") as batch_op:
        batch_op.drop_column("volunteer_channel")
    with op.batch_alter_table("volunteer_invites") as batch_op:
        batch_op.drop_column("kind")
    with op.batch_alter_table("volunteers") as batch_op:
        batch_op.drop_column("language")
        batch_op.drop_column("coordinator")
