"""sealed hand-off texts: room for their tokens on PostgreSQL

A sealed value is a Fernet token, about 1.4 times as long as the text plus 100
characters, so the columns limited to 300 characters (the learner's own words for a
topic, a request's context, the channel's reference to a learner's photo or voice note)
become TEXT on PostgreSQL. SQLite enforces no length, so its columns stay as they are:
changing a type there means copying the table, and dropping the old ``handoffs`` table
would cascade to ``handoff_messages``. The other sealed columns were TEXT or BLOB already.

Downgrading makes them VARCHAR(300) again, which PostgreSQL refuses while a longer value
(a sealed one) is kept.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

WIDENED = (("handoffs", "topic_text"), ("handoffs", "context"), ("handoff_messages", "media_ref"))


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for table, column in WIDENED:
        op.alter_column(
            table, column, type_=sa.Text(), existing_type=sa.String(300), existing_nullable=True
        )


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for table, column in WIDENED:
        op.alter_column(
            table, column, type_=sa.String(300), existing_type=sa.Text(), existing_nullable=True
        )
