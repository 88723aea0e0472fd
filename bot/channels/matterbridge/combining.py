"""Several outbox messages to one gateway sent as one post, so a busy group gets fewer; and
the posts a gateway got lately, counted from the outbox (so every coach process counts them).

The sender claims a chat's due messages together and sends them in order; the first one's
post also carries those claimed after it (other people's replies, or the second half of a
"not understood"), up to the text limit. Those are marked with the post's id at once, so
when the sender comes to them (now, or after a restart) nothing is posted again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from bot.store.delivery_queue import SENDING
from bot.store.outbox import OutboundMessage
from bot.store.tables import OutboxRow
from bot.store.unit_of_work import Store

# A gateway's newest outbox rows that can hold its last minute's posts (20 posts of at most
# 20 messages, and those waiting), read through its index instead of all it ever got.
RECENT_ROWS = 1000


class CombinedPosts:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def posted_as(self, message_id: int) -> str | None:
        """The id of the post that already carried this message, if one did."""
        async with self.store.unit_of_work() as uow:
            return await uow.session.scalar(
                select(OutboxRow.platform_message_id).where(OutboxRow.id == message_id)
            )

    async def following(self, message: OutboundMessage, limit: int) -> list[OutboundMessage]:
        """The messages claimed with ``message`` for its gateway that come after it, not yet
        carried by any post, oldest first (at most ``limit``)."""
        async with self.store.unit_of_work() as uow:
            rows = await uow.session.scalars(
                select(OutboxRow)
                .where(
                    OutboxRow.channel == message.channel,
                    OutboxRow.chat_id == message.chat_id,
                    OutboxRow.status == SENDING,
                    OutboxRow.id > message.id,
                    OutboxRow.platform_message_id.is_(None),
                )
                .order_by(OutboxRow.id)
                .limit(limit)
            )
            return [OutboundMessage.of(row) for row in rows]

    async def carried(self, message_ids: list[int], post_id: str, at: datetime) -> None:
        """These messages went out inside post ``post_id`` at ``at``: recorded at once, so
        the group's window counts the post before the sender's "sent" marks are written,
        and a post is never made twice for them."""
        async with self.store.unit_of_work() as uow:
            await uow.session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(message_ids))
                .values(platform_message_id=post_id, sent_at=at)
            )

    async def posted_since(self, channel: str, gateway: str, since: datetime) -> list[datetime]:
        """When each post to ``gateway`` since ``since`` went out, oldest first (a post that
        carried several messages counts once)."""
        recent = (
            select(OutboxRow.sent_at, OutboxRow.platform_message_id)
            .where(OutboxRow.channel == channel, OutboxRow.chat_id == gateway)
            .order_by(OutboxRow.id.desc())
            .limit(RECENT_ROWS)
            .subquery()
        )
        async with self.store.unit_of_work() as uow:
            times = await uow.session.scalars(
                select(func.min(recent.c.sent_at))
                .where(recent.c.sent_at >= since, recent.c.platform_message_id.is_not(None))
                .group_by(recent.c.platform_message_id)
            )
            return sorted(time for time in times if time is not None)
