"""The outbox: every message to a learner is a row before it is sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.tables import OutboxRow


@dataclass(frozen=True)
class Button:
    label: str
    payload: str


@dataclass(frozen=True)
class OutboundMessage:
    """A message as the channels see it: rendered text in the learner's language."""

    id: int
    channel: str
    chat_id: str
    text: str
    buttons: tuple[Button, ...]
    media: dict[str, Any] | None
    tag: str | None
    language: str

    @classmethod
    def of(cls, row: OutboxRow) -> OutboundMessage:
        buttons = tuple(Button(b["label"], b["payload"]) for b in row.buttons)
        return cls(
            row.id, row.channel, row.chat_id, row.text, buttons, row.media, row.tag, row.language
        )


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: OutboxRow) -> OutboxRow:
        self.session.add(row)
        await self.session.flush()
        return row

    async def for_inbound(self, key: str) -> list[OutboundMessage]:
        query = select(OutboxRow).where(OutboxRow.inbound_key == key).order_by(OutboxRow.id)
        return [OutboundMessage.of(row) for row in await self.session.scalars(query)]

    async def after(
        self, channel: str, chat_id: str, after_id: int, limit: int = 200
    ) -> list[OutboundMessage]:
        query = (
            select(OutboxRow)
            .where(
                OutboxRow.channel == channel, OutboxRow.chat_id == chat_id, OutboxRow.id > after_id
            )
            .order_by(OutboxRow.id)
            .limit(limit)
        )
        return [OutboundMessage.of(row) for row in await self.session.scalars(query)]

    async def tag_of(self, channel: str, chat_id: str, message_id: int) -> str | None:
        """The tag of a message this chat received, to recognise a reply to it."""
        query = select(OutboxRow.tag).where(
            OutboxRow.id == message_id, OutboxRow.channel == channel, OutboxRow.chat_id == chat_id
        )
        return (await self.session.execute(query)).scalar_one_or_none()
