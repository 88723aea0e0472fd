"""The desk's upkeep: the clock's escalations and day-end notices, a volunteer removed,
a learner who can no longer be reached."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.core.text import N_
from bot.services.desk_messages import DeskMessages
from bot.store.tables import Handoff, Learner
from bot.store.unit_of_work import Store


class DeskUpkeep(DeskMessages):
    """Sweeps and requeues; ``HandoffDesk`` gives the store and the clock."""

    store: Store

    async def sweep(self, now: datetime) -> int:
        """Alert everyone about requests nobody took in time; at the end of the day, tell
        the learner honestly and give the drop-in times."""
        done = 0
        async with self.store.unit_of_work() as uow:
            late = (
                select(Handoff)
                .where(Handoff.status == "open", Handoff.escalate_at <= now)
                .limit(100)
            )
            ending = (
                select(Handoff)
                .where(Handoff.status == "open", Handoff.day_ends_at <= now)
                .limit(100)
            )
            if uow.postgres:
                late, ending = (
                    late.with_for_update(skip_locked=True),
                    ending.with_for_update(skip_locked=True),
                )
            for handoff in list(await uow.session.scalars(late)):
                learner = await uow.session.get(Learner, handoff.learner_id)
                assert learner is not None
                handoff.escalate_at = None
                aid = await self._record(uow, handoff, "escalated", now)
                await self._alert(uow, handoff, learner, now, aid, everyone=True, updated=False)
                done += 1
            for handoff in list(await uow.session.scalars(ending)):
                learner = await uow.session.get(Learner, handoff.learner_id)
                assert learner is not None
                handoff.day_ends_at = None
                aid = await self._record(uow, handoff, "day_end", now)
                await self._to_learner(uow, learner, handoff, now, aid, "day-end", self._sorry(now))
                done += 1
        if done:
            self._notify()
        return done

    async def volunteer_removed(self, volunteer_id: int) -> int:
        """Requests a removed volunteer held go back to the queue, and are alerted again."""
        now = self.clock()
        async with self.store.unit_of_work() as uow:
            held = list(
                await uow.session.scalars(
                    select(Handoff).where(
                        Handoff.volunteer_id == volunteer_id, Handoff.status == "claimed"
                    )
                )
            )
            for handoff in held:
                handoff.status, handoff.volunteer_id, handoff.claimed_at = "open", None, None
                handoff.escalate_at = now + self.escalate_after
                learner = await uow.session.get(Learner, handoff.learner_id)
                assert learner is not None
                handoff.day_ends_at = self._day_end(learner, now)
                aid = await self._record(uow, handoff, "requeued", now, volunteer_id)
                await self._tell_learner_requeued(uow, learner, handoff, now, aid)
                await self._alert(uow, handoff, learner, now, aid, everyone=True, updated=False)
        self._notify()
        return len(held)

    async def learner_unreachable(self, channel: str, chat_id: str) -> None:
        """The learner blocked the coach: tell the volunteer on the way, close the request."""
        now = self.clock()
        async with self.store.unit_of_work() as uow:
            learners = await uow.session.scalars(
                select(Learner.id).where(Learner.channel == channel, Learner.chat_id == chat_id)
            )
            ids = list(learners)
            rows = await uow.session.scalars(
                select(Handoff).where(
                    Handoff.learner_id.in_(ids), Handoff.status.in_(("open", "claimed"))
                )
            )
            for handoff in list(rows):
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
