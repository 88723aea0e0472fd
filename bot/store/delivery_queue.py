"""The outbox seen from the sender: claim due messages, then record what happened.

A chat's messages are claimed together, oldest first, and only when no older message of
that chat is still waiting or being sent, so messages never overtake each other, even
with several coach processes (``FOR UPDATE SKIP LOCKED`` on PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, and_, bindparam, exists, or_, select, update
from sqlalchemy.orm import aliased

from bot.store.outbox import OutboundMessage
from bot.store.tables import Learner, OutboxRow
from bot.store.unit_of_work import Store

PENDING, SENDING, SENT, FAILED, DROPPED = "pending", "sending", "sent", "failed", "dropped"


@dataclass(frozen=True)
class SentMark:
    id: int
    platform_message_id: str | None
    sent_at: datetime


class DeliveryQueue:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def claim(
        self, channels: list[str], now: datetime, limit: int, lease: timedelta
    ) -> list[OutboundMessage]:
        """Claim due messages for these channels, a whole chat at a time, oldest first."""
        older = aliased(OutboxRow)
        heads = (
            select(OutboxRow.id, OutboxRow.channel, OutboxRow.chat_id)
            .where(
                OutboxRow.status == PENDING,
                OutboxRow.not_before <= now,
                OutboxRow.channel.in_(channels),
                ~exists().where(
                    older.channel == OutboxRow.channel,
                    older.chat_id == OutboxRow.chat_id,
                    older.id < OutboxRow.id,
                    older.status.in_((PENDING, SENDING)),
                ),
            )
            .order_by(OutboxRow.id)
            .limit(limit)
        )
        async with self.store.unit_of_work() as uow:
            if uow.postgres:
                heads = heads.with_for_update(skip_locked=True)
            chats = (await uow.session.execute(heads)).all()
            if not chats:
                return []
            chat_filter = [
                and_(OutboxRow.channel == channel, OutboxRow.chat_id == chat_id)
                for _, channel, chat_id in chats
            ]
            rows = list(
                await uow.session.scalars(
                    select(OutboxRow)
                    .where(OutboxRow.status == PENDING, OutboxRow.not_before <= now)
                    .where(or_(*chat_filter))
                    .order_by(OutboxRow.id)
                )
            )
            for row in rows:
                row.status = SENDING
                row.claimed_until = now + lease
            return [OutboundMessage.of(row) for row in rows]

    async def sent_many(self, marks: list[SentMark]) -> None:
        """Mark messages sent, in one statement (each with its own id and time). A mark
        never moves a message back: a status the platform reported meanwhile (delivered,
        read) stays, and so does a mark written twice."""
        if not marks:
            return
        table = cast(Table, OutboxRow.__table__)
        statement = (
            update(table)
            .where(
                table.c.id == bindparam("mark_id"),
                # Not IN: an expanding parameter, which a statement run many times cannot have.
                or_(table.c.status == SENDING, table.c.status == PENDING),
            )
            .values(
                status=SENT,
                sent_at=bindparam("mark_sent_at"),
                platform_message_id=bindparam("mark_platform_id"),
                claimed_until=None,
            )
        )
        values = [
            {
                "mark_id": mark.id,
                "mark_sent_at": mark.sent_at,
                "mark_platform_id": mark.platform_message_id,
            }
            for mark in marks
        ]
        async with self.store.unit_of_work() as uow:
            await (await uow.session.connection()).execute(statement, values)

    async def retry(self, message_id: int, not_before: datetime, error: str, attempt: bool) -> None:
        """Send again later; ``attempt`` counts it as a failed try (not so for flood control)."""
        async with self.store.unit_of_work() as uow:
            values: dict[str, object] = {
                "status": PENDING,
                "not_before": not_before,
                "claimed_until": None,
                "last_error": error[:200],
            }
            if attempt:
                values["attempts"] = OutboxRow.attempts + 1
            await uow.session.execute(
                update(OutboxRow).where(OutboxRow.id == message_id).values(**values)
            )

    async def release(self, message_ids: list[int]) -> None:
        """Give claimed messages back untouched (the chat's earlier message must go first)."""
        if not message_ids:
            return
        async with self.store.unit_of_work() as uow:
            await uow.session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(message_ids), OutboxRow.status == SENDING)
                .values(status=PENDING, claimed_until=None)
            )

    async def failed(self, message_id: int, error: str) -> None:
        await self._set(message_id, status=FAILED, last_error=error[:200], claimed_until=None)

    async def unreachable(self, channel: str, chat_id: str, now: datetime) -> int:
        """The chat blocked or removed the coach: its learners stop, its messages are dropped."""
        async with self.store.unit_of_work() as uow:
            await uow.session.execute(
                update(Learner)
                .where(Learner.channel == channel, Learner.chat_id == chat_id)
                .values(status="stopped", version=Learner.version + 1)
            )
            dropped = await uow.session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.channel == channel,
                    OutboxRow.chat_id == chat_id,
                    OutboxRow.status.in_((PENDING, SENDING)),
                )
                .values(status=DROPPED, claimed_until=None)
            )
            learners = await uow.session.scalars(
                select(Learner.id).where(Learner.channel == channel, Learner.chat_id == chat_id)
            )
            for learner_id in learners:
                await uow.record(learner_id, "learner_unreachable", {"channel": channel}, now)
            return int(dropped.rowcount or 0)  # type: ignore[attr-defined]

    async def moved(self, channel: str, chat_id: str, new_chat_id: str) -> None:
        """The chat got a new id: its learners (unless already there) and unsent messages
        follow it, and the messages being sent are due again."""
        there = aliased(Learner)
        async with self.store.unit_of_work() as uow:
            await uow.session.execute(
                update(Learner)
                .where(
                    Learner.channel == channel,
                    Learner.chat_id == chat_id,
                    ~exists().where(
                        there.channel == channel,
                        there.chat_id == new_chat_id,
                        there.user_id == Learner.user_id,
                    ),
                )
                .values(chat_id=new_chat_id, version=Learner.version + 1)
            )
            await uow.session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.channel == channel,
                    OutboxRow.chat_id == chat_id,
                    OutboxRow.status.in_((PENDING, SENDING)),
                )
                .values(chat_id=new_chat_id, status=PENDING, claimed_until=None)
            )

    async def recover(self, now: datetime) -> int:
        """Messages whose sender died mid-way (lease expired) become due again."""
        async with self.store.unit_of_work() as uow:
            result = await uow.session.execute(
                update(OutboxRow)
                .where(OutboxRow.status == SENDING, OutboxRow.claimed_until < now)
                .values(status=PENDING, claimed_until=None)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def _set(self, message_id: int, **values: object) -> None:
        async with self.store.unit_of_work() as uow:
            await uow.session.execute(
                update(OutboxRow).where(OutboxRow.id == message_id).values(**values)
            )
