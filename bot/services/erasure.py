"""Erasing a learner or a volunteer: every personal row and field, in one transaction.

A learner's row stays as an anonymous stub (channel and language only, no chat id, no
name), so the events that point to it still count in the trainers' per-step figures but
lead to no one. A message the coach is still to deliver (the "Done, erased" answer) keeps
its chat id until it is sent; the retention sweep then deletes it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import ColumnElement, delete, or_, select, update

from bot.core.text import N_, Msg
from bot.services.desk_messages import VOLUNTEER_CHANNEL
from bot.store.delivery_queue import DROPPED, PENDING, SENDING
from bot.store.tables import (
    DeskSession,
    Handoff,
    HandoffMessage,
    InboundKey,
    Learner,
    LessonProgressRow,
    OutboxRow,
    Volunteer,
    VolunteerInvite,
)
from bot.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
ERASED_PREFIX = "erased:"
ACTIVE_REQUEST = ("intake", "open", "claimed")
# The tag of the coach's last answer to a volunteer who erased themselves: the follow-up
# sweep deletes it (and the chat id it carries) as soon as it is delivered.
VOLUNTEER_ERASED = "privacy:volunteer-erased"
# Tells the volunteer and the alerts that a request ended: (uow, handoff, said, now).
TellDesk = Callable[[UnitOfWork, Handoff, Msg, datetime], Awaitable[None]]


class ErasedKeys:
    """The keys of an erased person's updates, kept only as keyed hashes: a platform that
    delivers one of them again (or a page that retries it) is recognised, and nothing leads
    back to the person. The key must be the same in every process and across restarts."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret if secret is not None else secrets.token_bytes(32)

    def tombstone(self, key: str) -> str:
        mac = hmac.new(self._secret, key.encode("utf-8", "replace"), hashlib.sha256)
        return f"{ERASED_PREFIX}{mac.hexdigest()}"

    async def seen(self, uow: UnitOfWork, key: str) -> bool:
        """Whether ``key`` was handled for a learner who has since been erased."""
        return await uow.inbound_seen(self.tombstone(key))

    async def bury(self, uow: UnitOfWork, mine: ColumnElement[bool]) -> None:
        """These update keys become anonymous tombstones (swept with the other keys)."""
        rows = (await uow.session.execute(select(InboundKey.key, InboundKey.at).where(mine))).all()
        await uow.session.execute(delete(InboundKey).where(mine))
        for key, at in rows:
            uow.session.add(InboundKey(key=self.tombstone(key), learner_id=None, at=at))


def closed_by_learner(handoff_id: int) -> Msg:
    """What the volunteer and the alerts say of a request whose learner was erased."""
    return N_("Request #{id}: the learner closed this request.", id=handoff_id)


async def erase_learner(
    uow: UnitOfWork,
    learner: Learner,
    now: datetime,
    *,
    tell_desk: TellDesk | None = None,
    keep_key: str | None = None,
    erased_keys: ErasedKeys | None = None,
) -> None:
    """Erase everything about ``learner``; ``keep_key``: the inbound key of the event whose
    answers are still to be delivered (a push channel), kept only until they are sent;
    ``erased_keys``: keep the learner's update keys as tombstones instead of deleting them."""
    session = uow.session
    handoffs = list(await session.scalars(select(Handoff).where(Handoff.learner_id == learner.id)))
    ids = [handoff.id for handoff in handoffs]
    if ids:
        await session.execute(delete(HandoffMessage).where(HandoffMessage.handoff_id.in_(ids)))
        await _blank(uow, or_(*(OutboxRow.dedupe_key.like(f"handoff:{i}:%") for i in ids)))
    for handoff in handoffs:
        handoff.topic_text = handoff.comment = handoff.note = handoff.context = None
        if handoff.status in ACTIVE_REQUEST:
            was_open = handoff.status != "intake"
            handoff.status, handoff.closed_at, handoff.outcome = "cancelled", now, None
            handoff.escalate_at = handoff.day_ends_at = None
            if was_open and tell_desk is not None:
                await tell_desk(uow, handoff, closed_by_learner(handoff.id), now)
    await session.flush()
    private = learner.chat_id == learner.user_id
    mine = OutboxRow.learner_id == learner.id
    if private:
        chat = (OutboxRow.channel == learner.channel) & (OutboxRow.chat_id == learner.chat_id)
        mine = or_(mine, chat)
    waiting = OutboxRow.inbound_key == keep_key if keep_key is not None else None
    if waiting is not None:
        await session.execute(delete(OutboxRow).where(mine, ~waiting))
        await session.execute(
            update(OutboxRow)
            .where(waiting)
            .values(inbound_key=None, learner_id=learner.id, tag=None)
        )
        await _rekey(uow, learner.id)
    else:
        await session.execute(delete(OutboxRow).where(mine))
    if erased_keys is not None:
        await erased_keys.bury(uow, InboundKey.learner_id == learner.id)
    else:
        await session.execute(delete(InboundKey).where(InboundKey.learner_id == learner.id))
    await session.execute(
        delete(LessonProgressRow).where(LessonProgressRow.learner_id == learner.id)
    )
    _to_stub(learner, now)
    await session.flush()
    log.info("learner %d erased", learner.id)


async def _blank(uow: UnitOfWork, which: object) -> None:
    """The volunteers' copies of a request's messages: no text, buttons or media left."""
    await uow.session.execute(
        update(OutboxRow)
        .where(which, OutboxRow.status.in_((PENDING, SENDING)))  # type: ignore[arg-type]
        .values(status=DROPPED, claimed_until=None)
    )
    await uow.session.execute(
        update(OutboxRow)
        .where(which)  # type: ignore[arg-type]
        .values(text="", buttons=[], media=None)
    )


async def _rekey(uow: UnitOfWork, learner_id: int) -> None:
    """Dedupe keys hold the event key, which may hold the chat id: make them anonymous."""
    rows = await uow.session.scalars(select(OutboxRow).where(OutboxRow.learner_id == learner_id))
    for row in list(rows):
        row.dedupe_key = f"{ERASED_PREFIX}{learner_id}:{row.id}"


def _to_stub(learner: Learner, now: datetime) -> None:
    """The learner's row without anything that leads to them: channel and language stay."""
    learner.chat_id = learner.user_id = f"{ERASED_PREFIX}{learner.id}"
    learner.first_name = None
    learner.status = "stopped"
    learner.timezone = "UTC"
    learner.current_lesson = None
    learner.choices = []
    learner.streak_days = 0
    learner.last_active_day = None
    learner.last_seen_at = learner.created_at
    learner.last_activity_at = learner.last_nudge_at = None
    learner.paused_until = learner.snoozed_until = learner.next_nudge_at = None
    learner.nudges_unanswered = 0
    learner.asked_to_pause = learner.handoff_open = False
    learner.reviews = []
    learner.text_only = False


async def erase_volunteer(
    uow: UnitOfWork, volunteer: Volunteer, now: datetime, erased_keys: ErasedKeys | None = None
) -> None:
    """A volunteer's name and Telegram id, sign-ins and invitations go; their id stays in
    the requests they handled, which keeps the hand-off figures. ``erased_keys``: the keys
    of their Telegram messages stay as tombstones, so a redelivered one changes nothing."""
    session = uow.session
    await session.execute(delete(DeskSession).where(DeskSession.volunteer_id == volunteer.id))
    await session.execute(
        delete(VolunteerInvite).where(VolunteerInvite.volunteer_id == volunteer.id)
    )
    if volunteer.telegram_user_id is not None:
        chat = volunteer.telegram_user_id
        await session.execute(
            delete(OutboxRow).where(
                OutboxRow.channel == VOLUNTEER_CHANNEL, OutboxRow.chat_id == chat
            )
        )
        # Their Telegram messages' keys name their private chat (``tg:m:CHAT:ID``).
        theirs = InboundKey.key.like(f"tg:m:{chat}:%")
        if erased_keys is not None:
            await erased_keys.bury(uow, theirs)
        else:
            await session.execute(delete(InboundKey).where(theirs))
    held = select(Handoff.id).where(Handoff.volunteer_id == volunteer.id)
    for (handoff_id,) in (await session.execute(held)).all():
        # What the coach said on their behalf names them ("Nadia will help you").
        await session.execute(
            update(OutboxRow)
            .where(
                OutboxRow.dedupe_key.like(f"handoff:{handoff_id}:%"),
                OutboxRow.status.not_in((PENDING, SENDING)),
            )
            .values(text="", buttons=[], media=None)
        )
    volunteer.name = ""
    volunteer.telegram_user_id = None
    volunteer.active = volunteer.available = volunteer.coordinator = False
    volunteer.removed_at = volunteer.removed_at or now
    await session.flush()
    log.info("volunteer %d erased", volunteer.id)
