"""Learners and their lesson progress, stored and loaded as core state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.events import Sender
from bot.core.nudges import NudgeState
from bot.core.review import ReviewItem
from bot.core.state import LearnerState, LearnerStatus, LessonProgress, LessonStatus
from bot.store.tables import Learner, LessonProgressRow


class LearnerRepository:
    def __init__(self, session: AsyncSession, lock_rows: bool) -> None:
        self.session = session
        self.lock_rows = lock_rows
        # The progress rows read in this transaction, kept so that saving changes them in
        # place (the session holds its rows only weakly: they would be read again).
        self._progress: dict[tuple[int, str], LessonProgressRow] = {}

    async def find(self, sender: Sender, lock: bool = True) -> Learner | None:
        query = select(Learner).where(
            Learner.channel == sender.channel,
            Learner.chat_id == sender.chat_id,
            Learner.user_id == sender.user_id,
        )
        if lock and self.lock_rows:
            query = query.with_for_update()
        return (await self.session.scalars(query)).one_or_none()

    async def due_for_nudge(self, now: datetime, limit: int) -> list[Learner]:
        """Learners whose reminder is due, oldest first, locked; others' locked rows are skipped."""
        query = (
            select(Learner)
            .where(Learner.next_nudge_at <= now)
            .order_by(Learner.next_nudge_at)
            .limit(limit)
        )
        if self.lock_rows:
            query = query.with_for_update(skip_locked=True)
        return list(await self.session.scalars(query))

    async def get(self, learner_id: int) -> Learner | None:
        return await self.session.get(Learner, learner_id)

    async def stored(self, learner_id: int) -> Learner:
        """The learner's row as stored now (written in this transaction without the ORM)."""
        row = await self.session.get(Learner, learner_id, populate_existing=True)
        assert row is not None, f"learner {learner_id} is in this transaction"
        return row

    async def load_or_create(
        self, sender: Sender, now: datetime, timezone: str
    ) -> tuple[Learner, LearnerState]:
        """The learner behind ``sender``, locked for this transaction; new ones are created."""
        row = await self.find(sender)
        if row is None:
            row = Learner(**new_learner(sender, now, timezone))
            self.session.add(row)
            await self.session.flush()
        return row, await self.state_of(row)

    async def state_of(self, row: Learner) -> LearnerState:
        progress_rows = await self.session.scalars(
            select(LessonProgressRow).where(LessonProgressRow.learner_id == row.id)
        )
        progress = {}
        for progress_row in progress_rows:
            self._progress[(row.id, progress_row.lesson_id)] = progress_row
            progress[progress_row.lesson_id] = lesson_progress(progress_row)
        return learner_state(row, progress)

    async def save(
        self,
        row: Learner,
        before: LearnerState,
        after: LearnerState,
        now: datetime,
        next_nudge_at: datetime | None,
        *,
        seen: bool = True,
    ) -> None:
        """Write what changed; the version column refuses a concurrent update.

        ``seen``: the learner did something (not so when the coach's clock wrote to them).
        """
        for column, value in learner_values(after, now if seen else None, next_nudge_at).items():
            setattr(row, column, value)
        for lesson_id, progress in changed_progress(before, after):
            stored = self._progress.get((row.id, lesson_id))
            if stored is None and lesson_id in before.progress:  # read by someone else
                stored = await self.session.get(LessonProgressRow, (row.id, lesson_id))
            if stored is None:
                stored = LessonProgressRow(learner_id=row.id, lesson_id=lesson_id)
                self._progress[(row.id, lesson_id)] = stored
                self.session.add(stored)
            for column, value in progress_values(progress).items():
                setattr(stored, column, value)
        await self.session.flush()


LESSON_STATUS = {status.value: status for status in LessonStatus}  # quicker than the call


def new_learner(sender: Sender, now: datetime, timezone: str) -> dict[str, Any]:
    """The columns of a learner seen for the first time."""
    return {
        "channel": sender.channel,
        "chat_id": sender.chat_id,
        "user_id": sender.user_id,
        "first_name": sender.first_name,
        "status": LearnerStatus.ACTIVE.value,
        "timezone": timezone,
        "choices": [],
        "streak_days": 0,
        "created_at": now,
        "last_seen_at": now,
        "nudges_unanswered": 0,
        "asked_to_pause": False,
        "handoff_open": False,
        "reviews": [],
        "text_only": False,
    }


def learner_values(
    after: LearnerState, seen_at: datetime | None, next_nudge_at: datetime | None
) -> dict[str, Any]:
    """The learner's columns that hold ``after`` (``last_seen_at`` only when ``seen_at``)."""
    nudge = after.nudge
    values: dict[str, Any] = {
        "language": after.language,
        "status": after.status.value,
        "current_lesson": after.current_lesson,
        "choices": list(after.choices),
        "streak_days": after.streak_days,
        "last_active_day": after.last_active_day,
        "first_name": after.first_name,
        "timezone": after.timezone,
        "last_activity_at": nudge.last_activity_at,
        "nudges_unanswered": nudge.nudges_unanswered,
        "last_nudge_at": nudge.last_nudge_at,
        "paused_until": nudge.paused_until,
        "snoozed_until": nudge.snoozed_until,
        "asked_to_pause": nudge.asked_to_pause,
        "handoff_open": nudge.handoff_open,
        "next_nudge_at": next_nudge_at,
        "text_only": after.text_only,
        "reviews": [[r.lesson_id, r.step_id, r.box, r.due_at.isoformat()] for r in after.reviews],
    }
    if seen_at is not None:
        values["last_seen_at"] = seen_at
    return values


def progress_values(progress: LessonProgress) -> dict[str, Any]:
    """A lesson progress row's columns but its key."""
    return {
        "status": progress.status.value,
        "step_id": progress.step_id,
        "score": progress.score,
        "step_attempts": progress.step_attempts,
        "started_at": progress.started_at,
        "finished_at": progress.finished_at,
    }


def changed_progress(before: LearnerState, after: LearnerState) -> list[tuple[str, LessonProgress]]:
    """The lessons whose progress the turn changed."""
    return [
        (lesson_id, progress)
        for lesson_id, progress in after.progress.items()
        if before.progress.get(lesson_id) != progress
    ]


def learner_state(row: Any, progress: dict[str, LessonProgress]) -> LearnerState:
    """A learner's state from their row (an ORM row or a Core row with the same columns)
    and their lessons' progress."""
    nudge = NudgeState(
        last_activity_at=row.last_activity_at,
        nudges_unanswered=row.nudges_unanswered,
        last_nudge_at=row.last_nudge_at,
        paused_until=row.paused_until,
        asked_to_pause=row.asked_to_pause,
        snoozed_until=row.snoozed_until,
        handoff_open=row.handoff_open,
    )
    reviews = tuple(
        ReviewItem(lesson, step, box, datetime.fromisoformat(due))
        for lesson, step, box, due in row.reviews
    )
    return LearnerState(
        language=row.language,
        status=LearnerStatus(row.status),
        current_lesson=row.current_lesson,
        choices=tuple(row.choices),
        progress=progress,
        streak_days=row.streak_days,
        last_active_day=row.last_active_day,
        first_name=row.first_name,
        timezone=row.timezone,
        nudge=nudge,
        reviews=reviews,
        text_only=row.text_only,
        seed=row.id,
    )


def lesson_progress(row: Any) -> LessonProgress:
    """One lesson's progress from its row (an ORM row or a Core row with the same columns)."""
    return LessonProgress(
        lesson_id=row.lesson_id,
        status=LESSON_STATUS[row.status],
        step_id=row.step_id,
        score=row.score,
        started_at=row.started_at,
        finished_at=row.finished_at,
        step_attempts=row.step_attempts,
    )
