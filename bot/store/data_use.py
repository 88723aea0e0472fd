"""What moved between the coach and one learner since a moment, for ``/data``: one query.

The coach's messages delivered since then (sent, and not reported failed), grouped by the
file they carried, with the bytes of their words; and the learner's updates handled since
then, from their idempotency keys. The chat's outbox rows are found by the chat's index, the
learner's keys by their own.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, func, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.data_use import Sent, Traffic, sent_file
from bot.store.delivery_status import ORDER
from bot.store.tables import InboundKey, OutboxRow

_LEARNER = "learner"  # the row of the learner's own messages; the others name a file's kind


async def traffic_since(
    session: AsyncSession, learner_id: int, channel: str, chat_id: str, since: datetime
) -> Traffic:
    """What the learner's private chat carried since ``since``, both ways."""
    delivered = (
        select(
            OutboxRow.media["kind"].as_string().label("kind"),
            OutboxRow.media["path"].as_string().label("path"),
            OutboxRow.media["size"].as_integer().label("size"),
            func.coalesce(OutboxRow.text_bytes, 0).label("words"),
        )
        .where(
            OutboxRow.channel == channel,
            OutboxRow.chat_id == chat_id,
            OutboxRow.learner_id == learner_id,
            OutboxRow.sent_at >= since,
            OutboxRow.status.in_(ORDER),
        )
        .subquery()
    )
    # Grouped outside: PostgreSQL cannot tell two JSON look-ups with their own parameters alike.
    sent = select(
        delivered.c.kind,
        delivered.c.path,
        delivered.c.size,
        func.count().label("messages"),
        func.coalesce(func.sum(delivered.c.words), 0).label("words"),
    ).group_by(delivered.c.kind, delivered.c.path, delivered.c.size)
    received = select(
        literal(_LEARNER, String()),
        null().cast(String()),
        null().cast(Integer()),
        func.count(),
        literal(0, Integer()),
    ).where(InboundKey.learner_id == learner_id, InboundKey.at >= since)
    rows = (await session.execute(union_all(sent, received))).all()
    return Traffic(
        sent=tuple(
            Sent(int(messages), int(words), sent_file(kind, path, size))
            for kind, path, size, messages, words in rows
            if kind != _LEARNER
        ),
        received=sum(int(messages) for kind, _, _, messages, _ in rows if kind == _LEARNER),
    )
