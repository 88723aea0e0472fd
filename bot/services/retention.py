"""Nothing kept longer than it must be: a sweep that deletes what has had its time.

What a request said (relayed messages, the learner's own words, the volunteer's note, the
learner's comment) goes some days after it closes; idempotency keys and the texts of
delivered messages after a week (the rows stay, with their ids and times, for the
figures); a learner who wrote nothing for a year is told so once and erased; the answers
to an erasure go as soon as they are delivered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, or_, select, update

from bot.core.channel import Capabilities, Destination
from bot.core.effects import Reply
from bot.core.text import N_
from bot.delivery.held import HELD
from bot.i18n import Catalogs
from bot.services.erasure import ERASED_PREFIX, VOLUNTEER_ERASED, erase_learner
from bot.services.rendering import Renderer
from bot.store.database import forget_old_pages
from bot.store.delivery_queue import PENDING, SENDING
from bot.store.tables import Handoff, HandoffMessage, InboundKey, Learner, OutboxRow
from bot.store.unit_of_work import Store, UnitOfWork

log = logging.getLogger(__name__)
ENDED = ("closed", "cancelled")
UNSENT = (PENDING, SENDING)
INACTIVE_GOODBYE = N_(
    "You have not written to me for a year, so I erased everything I kept about you. "
    "If you write again, we start from zero."
)


@dataclass(frozen=True)
class ErasureFollowUp:
    """The answers to an erasure, gone as soon as they are delivered: a sweep that runs
    as often as the outbox's (the whole retention sweep runs more rarely)."""

    store: Store

    async def sweep(self, now: datetime) -> int:
        async with self.store.unit_of_work() as uow:
            gone = await erasures_delivered(uow)
        if gone:
            await forget_old_pages(self.store.engine)
        return gone


async def erasures_delivered(uow: UnitOfWork) -> int:
    """The last answers to an erased learner or volunteer, once delivered (or given up)."""
    stubs = select(Learner.id).where(Learner.chat_id.like(f"{ERASED_PREFIX}%"))
    erased = or_(OutboxRow.learner_id.in_(stubs), OutboxRow.tag == VOLUNTEER_ERASED)
    gone = await uow.session.execute(
        delete(OutboxRow).where(erased, OutboxRow.status.not_in(UNSENT))
    )
    return int(gone.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class RetentionPolicy:
    handoff_days: int = 30
    inbound_key_days: int = 7
    outbox_text_days: int = 7
    inactive_learner_days: int = 365


@dataclass
class Retention:
    store: Store
    catalogs: Catalogs | None = None
    channels: Mapping[str, Capabilities] = field(default_factory=dict)
    policy: RetentionPolicy = field(default_factory=RetentionPolicy)
    batch: int = 500
    on_outbox: Callable[[], None] | None = None

    async def sweep(self, now: datetime) -> int:
        """One pass; how many rows it deleted or emptied."""
        async with self.store.unit_of_work() as uow:
            done = await erasures_delivered(uow)
            done += await self._requests(uow, now - timedelta(days=self.policy.handoff_days))
            done += await self._inbound_keys(
                uow, now - timedelta(days=self.policy.inbound_key_days)
            )
            texts = now - timedelta(days=self.policy.outbox_text_days)
            done += await self._given_up(uow, texts)
            done += await self._texts(uow, texts)
        inactive = await self._inactive(now)
        if done or inactive:
            await forget_old_pages(self.store.engine)
            log.info("retention sweep: %d rows, %d inactive learners erased", done, inactive)
        return done + inactive

    async def _requests(self, uow: UnitOfWork, cutoff: datetime) -> int:
        talked = exists().where(HandoffMessage.handoff_id == Handoff.id)
        said = or_(
            Handoff.topic_text.is_not(None),
            Handoff.note.is_not(None),
            Handoff.comment.is_not(None),
            Handoff.context.is_not(None),
            talked,
        )
        query = (
            select(Handoff)
            .where(Handoff.status.in_(ENDED), Handoff.closed_at <= cutoff, said)
            .limit(self.batch)
        )
        handoffs = list(await uow.session.scalars(query))
        if not handoffs:
            return 0
        ids = [handoff.id for handoff in handoffs]
        for handoff in handoffs:
            handoff.topic_text = handoff.note = handoff.comment = handoff.context = None
        await uow.session.execute(delete(HandoffMessage).where(HandoffMessage.handoff_id.in_(ids)))
        copies = or_(*(OutboxRow.dedupe_key.like(f"handoff:{i}:%") for i in ids))
        await uow.session.execute(
            update(OutboxRow)
            .where(copies, OutboxRow.status.not_in(UNSENT))
            .values(text="", buttons=[], media=None)
        )
        return len(ids)

    async def _inbound_keys(self, uow: UnitOfWork, cutoff: datetime) -> int:
        gone = await uow.session.execute(delete(InboundKey).where(InboundKey.at <= cutoff))
        return int(gone.rowcount or 0)  # type: ignore[attr-defined]

    async def _given_up(self, uow: UnitOfWork, cutoff: datetime) -> int:
        """A message held for a learner who never wrote again (WhatsApp's window) waits no
        longer than a delivered one's words are kept: it is given up, never sent late."""
        gone = await uow.session.execute(
            update(OutboxRow)
            .where(OutboxRow.status == HELD, OutboxRow.created_at <= cutoff)
            .values(status="failed", last_error="held too long: the learner did not write again")
        )
        return int(gone.rowcount or 0)  # type: ignore[attr-defined]

    async def _texts(self, uow: UnitOfWork, cutoff: datetime) -> int:
        """Delivered messages keep their row (ids, times, status) but lose their words."""
        emptied = await uow.session.execute(
            update(OutboxRow)
            .where(
                OutboxRow.status.not_in(UNSENT),
                OutboxRow.created_at <= cutoff,
                or_(OutboxRow.text != "", OutboxRow.media.is_not(None)),
            )
            .values(text="", buttons=[], media=None)
        )
        return int(emptied.rowcount or 0)  # type: ignore[attr-defined]

    async def _inactive(self, now: datetime) -> int:
        """Learners silent for too long: one last message where it can reach them, then
        everything is erased; each in a transaction of its own, its row locked."""
        cutoff = now - timedelta(days=self.policy.inactive_learner_days)
        erased = 0
        while erased < self.batch:
            async with self.store.unit_of_work() as uow:
                query = (
                    select(Learner)
                    .where(
                        Learner.last_seen_at <= cutoff,
                        Learner.chat_id.not_like(f"{ERASED_PREFIX}%"),
                    )
                    .order_by(Learner.id)
                    .limit(1)
                )
                if uow.postgres:
                    query = query.with_for_update(skip_locked=True)
                learner = await uow.session.scalar(query)
                if learner is None:
                    break
                key = f"retention:{learner.id}"
                told = await self._goodbye(uow, learner, key, now)
                await erase_learner(uow, learner, now, keep_key=key if told else None)
            erased += 1
            if told and self.on_outbox is not None:
                self.on_outbox()
        return erased

    async def _goodbye(self, uow: UnitOfWork, learner: Learner, key: str, now: datetime) -> bool:
        """The last message, in a private chat on a channel that pushes; never in a group."""
        channel = self.channels.get(learner.channel)
        if (
            self.catalogs is None
            or channel is None
            or channel.pull
            or learner.in_group
            or learner.status != "active"
        ):
            return False
        to = Destination(learner.channel, learner.chat_id, key, learner.id)
        language = learner.language or self.catalogs.fallback
        reply = Reply((INACTIVE_GOODBYE,))
        for row in Renderer(self.catalogs, channel).rows([reply], to, language, now):
            await uow.outbox.add(row)
        return True
