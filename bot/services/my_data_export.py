"""Everything the coach keeps about one conversation, as plain data a learner can download.

Only what is theirs: their row, progress, events, the messages still kept for their chat,
their requests for a person and the messages in them. A volunteer appears by first name, as
the learner already sees them; a volunteer's private note on a request is not the learner's.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select

from bot.store.tables import (
    EventRow,
    Handoff,
    HandoffMessage,
    Learner,
    LessonProgressRow,
    OutboxRow,
    Volunteer,
)
from bot.store.unit_of_work import UnitOfWork

LEARNER_FIELDS = tuple(c.key for c in Learner.__table__.columns if c.key != "version")
PROGRESS_FIELDS = ("lesson_id", "status", "step_id", "score", "step_attempts")
PROGRESS_TIMES = ("started_at", "finished_at")
REQUEST_FIELDS = (
    "id",
    "status",
    "topic",
    "topic_text",
    "place",
    "slot",
    "share_name",
    "language",
    "context",
    "created_at",
    "opened_at",
    "claimed_at",
    "closed_at",
    "outcome",
    "rating",
    "comment",
)
MESSAGE_FIELDS = ("status", "text", "language", "created_at", "sent_at")


def _plain(value: Any) -> Any:
    """A value as JSON has it: times and days in ISO 8601."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _fields(row: object, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: _plain(getattr(row, name)) for name in names}


def first_name(volunteer: Volunteer | None) -> str | None:
    """A volunteer as the learner sees them: a first name, nothing else (none once erased)."""
    if volunteer is None or not volunteer.name.strip():
        return None
    return volunteer.name.split()[0]


async def conversation_export(
    uow: UnitOfWork, channel: str, chat_id: str, now: datetime
) -> dict[str, Any]:
    """What is kept about the learner in this private chat; ``learner`` is None when the coach
    keeps nothing (never started, or erased)."""
    learner = await uow.session.scalar(
        select(Learner).where(
            Learner.channel == channel, Learner.chat_id == chat_id, Learner.user_id == chat_id
        )
    )
    export: dict[str, Any] = {"exported_at": now.isoformat(), "learner": None}
    if learner is None:
        return export
    session = uow.session
    progress = await session.scalars(
        select(LessonProgressRow)
        .where(LessonProgressRow.learner_id == learner.id)
        .order_by(LessonProgressRow.started_at)
    )
    events = await session.scalars(
        select(EventRow).where(EventRow.learner_id == learner.id).order_by(EventRow.id)
    )
    mine = or_(
        OutboxRow.learner_id == learner.id,
        (OutboxRow.channel == channel) & (OutboxRow.chat_id == chat_id),
    )
    messages = await session.scalars(select(OutboxRow).where(mine).order_by(OutboxRow.id))
    export.update(
        learner=_fields(learner, LEARNER_FIELDS),
        progress=[_fields(p, PROGRESS_FIELDS + PROGRESS_TIMES) for p in progress],
        events=[{"name": e.name, "data": e.data, "at": _plain(e.at)} for e in events],
        messages_from_the_coach=[_fields(m, MESSAGE_FIELDS) for m in messages if m.text],
        requests=await _requests(uow, learner.id),
    )
    return export


async def _requests(uow: UnitOfWork, learner_id: int) -> list[dict[str, Any]]:
    """The learner's requests for a person, each with its messages and its volunteer's first
    name."""
    session = uow.session
    handoffs = await session.scalars(
        select(Handoff).where(Handoff.learner_id == learner_id).order_by(Handoff.id)
    )
    requests = []
    for handoff in list(handoffs):
        helper = await _volunteer(uow, handoff.volunteer_id)
        said = await session.scalars(
            select(HandoffMessage)
            .where(HandoffMessage.handoff_id == handoff.id)
            .order_by(HandoffMessage.id)
        )
        request = _fields(handoff, REQUEST_FIELDS)
        request["volunteer"] = first_name(helper)
        request["messages"] = [
            {
                "from": message.author,
                "volunteer": first_name(await _volunteer(uow, message.volunteer_id)),
                "text": message.text,
                "file": message.media_kind,
                "at": _plain(message.created_at),
            }
            for message in list(said)
        ]
        requests.append(request)
    return requests


async def _volunteer(uow: UnitOfWork, volunteer_id: int | None) -> Volunteer | None:
    return await uow.session.get(Volunteer, volunteer_id) if volunteer_id is not None else None
