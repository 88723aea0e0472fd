"""The desk's upkeep: the clock's escalations and day-end notices, a volunteer removed,
a learner who can no longer be reached."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.exc import DBAPIError

from bot.core.text import N_
from bot.services.desk_messages import DeskMessages
from bot.store.tables import Handoff, Learner
from bot.store.unit_of_work import Store, UnitOfWork
from bot.tracebacks import without_messages

T = TypeVar("T")
log = logging.getLogger(__name__)


class DeskUpkeep(DeskMessages):
    """Sweeps and requeues; ``HandoffDesk`` gives the store and the clock."""

    store: Store

    async def sweep(self, now: datetime) -> int:
        """Alert everyone about requests nobody took in time; at the end of the day, tell
        the learner honestly and give the drop-in times."""
        done = 0
        async with self.store.unit_of_work() as uow:
            late = self._due(Handoff.escalate_at <= now, uow.postgres)
            ending = self._due(Handoff.day_ends_at <= now, uow.postgres)
            for handoff in list(await uow.session.scalars(late)):
                done += await self._alone(uow, handoff, partial(self._escalate, uow, handoff, now))
            for handoff in list(await uow.session.scalars(ending)):
                done += await self._alone(uow, handoff, partial(self._day_ends, uow, handoff, now))
        if done:
            self._notify()
        return done

    async def _escalate(self, uow: UnitOfWork, handoff: Handoff, now: datetime) -> None:
        learner = await uow.session.get(Learner, handoff.learner_id)
        assert learner is not None
        handoff.escalate_at = None
        aid = await self._record(uow, handoff, "escalated", now)
        await self._alert(uow, handoff, learner, now, aid, everyone=True, updated=False)

    async def _day_ends(self, uow: UnitOfWork, handoff: Handoff, now: datetime) -> None:
        learner = await uow.session.get(Learner, handoff.learner_id)
        assert learner is not None
        handoff.day_ends_at = None
        aid = await self._record(uow, handoff, "day_end", now)
        await self._to_learner(uow, learner, handoff, now, aid, "day-end", self._sorry(now))

    @staticmethod
    async def _alone(
        uow: UnitOfWork, handoff: Handoff, work: Callable[[], Awaitable[None]]
    ) -> bool:
        """One request's part of a sweep, in a savepoint: a request that fails is logged and
        stays due for the next pass, and the sweep goes on with the others."""
        handoff_id = handoff.id
        try:
            async with uow.session.begin_nested():
                await work()
        except DBAPIError as error:
            if error.connection_invalidated:
                raise
            log.exception("hand-off %d: the sweep failed on it; it stays due", handoff_id)
            return False
        except Exception as error:  # a channel's message may quote what it was given
            failed = without_messages(error)
            log.error("hand-off %d: the sweep failed on it; it stays due\n%s", handoff_id, failed)
            return False
        return True

    @staticmethod
    def _due(when: ColumnElement[bool], postgres: bool) -> Select[Handoff]:
        """Open requests due, with their learners locked. On PostgreSQL a request whose
        learner is in the middle of an event (or that another sweep holds) is skipped until
        the next pass: a learner's event locks the learner, then the request, and a sweep
        that waited in the other order could deadlock with it."""
        query = (
            select(Handoff)
            .join(Learner, Learner.id == Handoff.learner_id)
            .where(Handoff.status == "open", when)
            .order_by(Handoff.id)
            .limit(100)
        )
        return query.with_for_update(skip_locked=True) if postgres else query

    async def volunteer_removed(self, volunteer_id: int) -> int:
        """Requests a removed volunteer held go back to the queue, and are alerted again.
        Each learner is locked before their request, in the order a learner's event takes
        them, so a learner writing or cancelling meanwhile waits instead of deadlocking."""
        now = self.clock()
        requeued = 0
        async with self.store.unit_of_work() as uow:
            held = await uow.session.execute(
                select(Handoff.id, Handoff.learner_id)
                .where(Handoff.volunteer_id == volunteer_id, Handoff.status == "claimed")
                .order_by(Handoff.id)
            )
            for handoff_id, learner_id in list(held):
                learner = await self._locked(uow, select(Learner).where(Learner.id == learner_id))
                handoff = await self._locked(
                    uow,
                    select(Handoff).where(
                        Handoff.id == handoff_id,
                        Handoff.volunteer_id == volunteer_id,
                        Handoff.status == "claimed",
                    ),
                )
                if learner is None or handoff is None:
                    continue  # the learner cancelled or the volunteer closed it meanwhile
                handoff.status, handoff.volunteer_id, handoff.claimed_at = "open", None, None
                handoff.escalate_at = now + self.escalate_after
                handoff.day_ends_at = self._day_end(learner, now)
                aid = await self._record(uow, handoff, "requeued", now, volunteer_id)
                await self._tell_learner_requeued(uow, learner, handoff, now, aid)
                await self._alert(uow, handoff, learner, now, aid, everyone=True, updated=False)
                requeued += 1
        self._notify()
        return requeued

    @staticmethod
    async def _locked(uow: UnitOfWork, query: Select[T]) -> T | None:
        """The row, locked until the end of the transaction on PostgreSQL, read afresh."""
        if uow.postgres:
            query = query.with_for_update()
        found = await uow.session.scalars(query.execution_options(populate_existing=True))
        return found.first()

    async def learner_unreachable(self, channel: str, chat_id: str) -> None:
        """The learner blocked the coach: tell the volunteer on the way, close the request."""
        now = self.clock()
        async with self.store.unit_of_work() as uow:
            learners = await uow.session.scalars(
                select(Learner.id)
                .where(Learner.channel == channel, Learner.chat_id == chat_id)
                .order_by(Learner.id)
            )
            ids = list(learners)
            for learner_id in ids:  # the learners first, as their own events lock them
                await self._locked(uow, select(Learner).where(Learner.id == learner_id))
            rows = select(Handoff).where(
                Handoff.learner_id.in_(ids), Handoff.status.in_(("open", "claimed"))
            )
            for handoff in list(await uow.session.scalars(rows)):
                said = N_(
                    "Request #{id}: the learner can no longer be reached (they blocked the coach). "
                    "No need to go.",
                    id=handoff.id,
                )
                aid = await self._record(uow, handoff, "unreachable", now)
                await self._tell_volunteer(uow, handoff, said, now, aid)
                await self._edit_alerts(uow, handoff, said, now, aid)
                handoff.status, handoff.closed_at, handoff.outcome = "cancelled", now, "unreachable"
        self._notify()

    # --- messages
