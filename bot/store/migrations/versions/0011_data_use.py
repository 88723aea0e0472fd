"""what /data counts: the bytes of each outbox message's words, and a learner's updates by time

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("text_bytes", sa.Integer(), nullable=True))
    op.create_index("ix_inbound_keys_learner_at", "inbound_keys", ["learner_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_inbound_keys_learner_at", table_name="inbound_keys")
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("text_bytes")
