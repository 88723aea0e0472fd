"""Messages held out of their chat's queue until the person writes again.

WhatsApp takes free-form messages only within 24 hours of the person's last message. A
message that falls outside is neither sent nor retried: its row is marked ``held`` (so the
chat's later messages, such as a reminder sent as a template, are not stuck behind it), and
when the person writes again it is due at once, in its place.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select, update

from bot.store.tables import Learner, OutboxRow
from bot.store.unit_of_work import Store

HELD = "held"
PENDING = "pending"


class HeldMessages:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def hold(self, message_id: int, reason: str) -> None:
        async with self.store.unit_of_work() as uow:
            await uow.session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == message_id)
                .values(status=HELD, claimed_until=None, last_error=reason[:200])
            )

    async def any(self, channel: str, chat_id: str) -> bool:
        """Whether this chat already has a message waiting for the person to write."""
        async with self.store.unit_of_work() as uow:
            held = exists().where(
                OutboxRow.channel == channel,
                OutboxRow.chat_id == chat_id,
                OutboxRow.status == HELD,
            )
            return bool(await uow.session.scalar(select(held)))

    async def release(self, channel: str, chat_id: str, now: datetime) -> int:
        """The person wrote at ``now``: their held messages are due now, before the answer
        to what they wrote (unless they stopped the coach, which drops them); how many.

        They are marked seen at ``now`` in the same transaction (the coach does so again
        when it handles their message), so the sender finds the window open even if it
        takes these messages before that."""
        stopped = exists().where(
            Learner.channel == channel, Learner.chat_id == chat_id, Learner.status == "stopped"
        )
        held = exists().where(
            OutboxRow.channel == channel, OutboxRow.chat_id == chat_id, OutboxRow.status == HELD
        )
        async with self.store.unit_of_work() as uow:
            if not await uow.session.scalar(select(held)):
                return 0
            if await uow.session.scalar(select(stopped)):
                await uow.session.execute(
                    update(OutboxRow)
                    .where(
                        OutboxRow.channel == channel,
                        OutboxRow.chat_id == chat_id,
                        OutboxRow.status == HELD,
                    )
                    .values(status="dropped")
                )
                return 0
            await uow.session.execute(
                update(Learner)
                .where(
                    Learner.channel == channel,
                    Learner.chat_id == chat_id,
                    Learner.last_seen_at < now,
                )
                .values(last_seen_at=now)
            )
            result = await uow.session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.channel == channel,
                    OutboxRow.chat_id == chat_id,
                    OutboxRow.status == HELD,
                )
                .values(status=PENDING, not_before=now, claimed_until=None)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]
