"""Learners' requests for a person, stored as hand-off rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from bot.core.state import HelpRequest, RequestStatus
from bot.store.tables import Handoff, Volunteer

HANDOFFS = cast(Table, Handoff.__table__)
LIVE = ("intake", "open", "claimed")
# While a volunteer holds a request its intake step is unused: it keeps whether the learner
# went back to the lessons (otherwise all they send goes to the volunteer).
IN_LESSONS = "lessons"


class RequestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def current(self, learner_id: int) -> HelpRequest | None:
        """The learner's request in progress, or the closed one still waiting for a rating."""
        return (await self.current_of([learner_id])).get(learner_id)

    async def current_of(self, learner_ids: Sequence[int]) -> dict[int, HelpRequest]:
        """``current`` for several learners: one query, and one for their volunteers."""
        if not learner_ids:
            return {}
        rows = await self.session.execute(  # Core rows: read many times a second
            select(HANDOFFS)
            .where(HANDOFFS.c.learner_id.in_(learner_ids))
            .where(HANDOFFS.c.status.in_(LIVE) | HANDOFFS.c.step.in_(("rating", "comment")))
            .order_by(HANDOFFS.c.id)
        )
        latest = {row.learner_id: row for row in rows}  # the newest one of each learner
        volunteer_ids = {row.volunteer_id for row in latest.values() if row.volunteer_id}
        names = {}
        if volunteer_ids:
            query = select(Volunteer.id, Volunteer.name).where(Volunteer.id.in_(volunteer_ids))
            names = {id_: name for id_, name in await self.session.execute(query)}
        return {
            learner_id: _request(row, names.get(row.volunteer_id) if row.volunteer_id else None)
            for learner_id, row in latest.items()
        }

    async def save(
        self,
        learner_id: int,
        before: HelpRequest | None,
        after: HelpRequest | None,
        language: str,
        now: datetime,
    ) -> int | None:
        """Write what the core changed; the id of the request. A request a volunteer changed
        meanwhile (claimed it, closed it) makes this fail, and the event is handled again."""
        if after is None:
            if before is not None and before.id is not None:
                await self._end(before, now)
            return None
        if after.id is None:
            row = Handoff(
                learner_id=learner_id,
                status=after.status.value,
                step=after.step,
                language=language,
                created_at=now,
                share_name=False,
            )
            self.session.add(row)
            self._fill(row, after)
            await self.session.flush()
            return row.id
        assert before is not None and before.id == after.id
        in_lessons = after.status is RequestStatus.CLAIMED and after.in_lessons
        values: dict[str, object] = {
            "step": IN_LESSONS if in_lessons else after.step,
            "topic": after.topic,
            "topic_text": after.topic_text,
            "place": after.place,
            "slot": after.slot,
            "share_name": after.share_name,
            "language": language,
        }
        if after.status in (RequestStatus.RATING, RequestStatus.COMMENT):
            values = {"step": after.status.value}
        elif after.status is not before.status:
            values["status"] = after.status.value
            if after.status is RequestStatus.OPEN:
                values["opened_at"] = now
        await self._update(after.id, self._db_status(before), values)
        return after.id

    async def _end(self, before: HelpRequest, now: datetime) -> None:
        assert before.id is not None
        if before.status in (RequestStatus.RATING, RequestStatus.COMMENT):
            await self._update(before.id, "closed", {"step": None})
        else:
            values: dict[str, object] = {
                "status": "cancelled",
                "step": None,
                "closed_at": now,
                "escalate_at": None,
            }
            await self._update(before.id, before.status.value, values)

    @staticmethod
    def _db_status(request: HelpRequest) -> str:
        if request.status in (RequestStatus.RATING, RequestStatus.COMMENT):
            return "closed"
        return request.status.value

    async def _update(self, handoff_id: int, status: str, values: Mapping[str, object]) -> None:
        result = await self.session.execute(
            update(Handoff)
            .where(Handoff.id == handoff_id, Handoff.status == status)
            .values(**values)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleDataError(f"hand-off {handoff_id} changed meanwhile")

    @staticmethod
    def _fill(row: Handoff, request: HelpRequest) -> None:
        row.topic, row.topic_text, row.place = request.topic, request.topic_text, request.place
        row.slot, row.share_name = request.slot, request.share_name


def _request(row: Row[Any], volunteer: str | None) -> HelpRequest:
    status = RequestStatus(row.status)
    step = row.step
    in_lessons = step == IN_LESSONS and status is RequestStatus.CLAIMED
    if step == IN_LESSONS:  # left over from a volunteer who no longer holds it
        step = None
    if row.status == "closed":
        status, step = RequestStatus(row.step or "closed"), None
    return HelpRequest(
        status,
        row.id,
        step,
        row.topic,
        row.topic_text,
        row.place,
        row.slot,
        row.share_name,
        volunteer,
        in_lessons,
    )
