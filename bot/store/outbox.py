"""The outbox: every message to a learner is a row before it is sent."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.numbers import ID_DIGITS, payload_number
from bot.store.tables import Learner, OutboxRow


@dataclass(slots=True)
class OutboxDraft:
    """An outbox row being made, as plain attributes (an ORM row keeps books on each of
    them, and a turn makes several many times a second); ``row()`` is it as an ORM row.
    Its fields are the outbox's columns (a test holds them equal); ``id`` is set once it
    is written."""

    channel: str
    chat_id: str
    text: str
    language: str
    dedupe_key: str
    status: str
    not_before: datetime
    created_at: datetime
    learner_id: int | None = None
    buttons: list[Any] = field(default_factory=list)
    media: dict[str, Any] | None = None
    tag: str | None = None
    inbound_key: str | None = None
    attempts: int = 0
    sent_at: datetime | None = None
    platform_message_id: str | None = None
    edit_message_id: str | None = None
    reply_to_message_id: str | None = None
    claimed_until: datetime | None = None
    last_error: str | None = None
    text_bytes: int | None = None
    id: int | None = None

    def row(self) -> OutboxRow:
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "id"}
        return OutboxRow(**values)


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
    learner_id: int | None = None
    edit_message_id: str | None = None
    reply_to_message_id: str | None = None
    attempts: int = 0

    @classmethod
    def of(cls, row: OutboxRow | OutboxDraft) -> OutboundMessage:
        """The message of a stored row (a draft once written: it has its id then)."""
        if row.id is None:
            raise ValueError("an outbox row not yet written has no id")
        buttons = tuple(Button(b["label"], b["payload"]) for b in row.buttons)
        return cls(
            id=row.id,
            channel=row.channel,
            chat_id=row.chat_id,
            text=row.text,
            buttons=buttons,
            media=row.media,
            tag=row.tag,
            language=row.language,
            learner_id=row.learner_id,
            edit_message_id=row.edit_message_id,
            reply_to_message_id=row.reply_to_message_id,
            attempts=row.attempts,
        )


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: OutboxRow | OutboxDraft) -> OutboxRow:
        if isinstance(row, OutboxDraft):
            row = row.row()
        self.session.add(row)
        await self.session.flush()
        return row

    async def add_all(self, rows: Iterable[OutboxRow | OutboxDraft]) -> list[OutboundMessage]:
        """Store these messages together (one INSERT where the database allows it) and
        give them as the channels see them, without reading them back."""
        added = [row.row() if isinstance(row, OutboxDraft) else row for row in rows]
        self.session.add_all(added)
        await self.session.flush()
        return [OutboundMessage.of(row) for row in added]

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

    async def by_platform_id(
        self, channel: str, chat_id: str, platform_message_id: str
    ) -> OutboundMessage | None:
        """The coach message a platform knows by this id, in this chat."""
        query = select(OutboxRow).where(
            OutboxRow.channel == channel,
            OutboxRow.chat_id == chat_id,
            OutboxRow.platform_message_id == platform_message_id,
        )
        row = (await self.session.scalars(query.order_by(OutboxRow.id.desc()).limit(1))).first()
        return OutboundMessage.of(row) if row is not None else None

    async def replied_tag(self, channel: str, chat_id: str, ref: str, pull: bool) -> str | None:
        """The tag of the coach message a learner replied to: on a pull channel ``ref`` is
        the outbox id the client was given, elsewhere the platform's message id."""
        if pull:
            outbox_id = payload_number(ref, ID_DIGITS)
            return None if outbox_id is None else await self.tag_of(channel, chat_id, outbox_id)
        sent = await self.by_platform_id(channel, chat_id, ref)
        return sent.tag if sent is not None else None

    async def owner_of(
        self, channel: str, chat_id: str, platform_message_id: str
    ) -> tuple[str, str | None] | None:
        """Who a coach message with buttons was for: their user id and first name."""
        query = (
            select(Learner.user_id, Learner.first_name)
            .join(OutboxRow, OutboxRow.learner_id == Learner.id)
            .where(
                OutboxRow.channel == channel,
                OutboxRow.chat_id == chat_id,
                OutboxRow.platform_message_id == platform_message_id,
            )
            .order_by(OutboxRow.id.desc())
            .limit(1)
        )
        found = (await self.session.execute(query)).first()
        return (found[0], found[1]) if found is not None else None

    async def tag_of(self, channel: str, chat_id: str, message_id: int) -> str | None:
        """The tag of a message this chat received, to recognise a reply to it."""
        query = select(OutboxRow.tag).where(
            OutboxRow.id == message_id, OutboxRow.channel == channel, OutboxRow.chat_id == chat_id
        )
        return (await self.session.execute(query)).scalar_one_or_none()
