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

    async def load_or_create(
        self, sender: Sender, now: datetime, timezone: str
    ) -> tuple[Learner, LearnerState]:
        """The learner behind ``sender``, locked for this transaction; new ones are created."""
        row = await self.find(sender)
        if row is None:
            row = Learner(
                channel=sender.channel,
                chat_id=sender.chat_id,
                user_id=sender.user_id,
                first_name=sender.first_name,
                status=LearnerStatus.ACTIVE.value,
                timezone=timezone,
                choices=[],
                streak_days=0,
                created_at=now,
                last_seen_at=now,
                nudges_unanswered=0,
                asked_to_pause=False,
                handoff_open=False,
                reviews=[],
                text_only=False,
            )
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
        row.language = after.language
        row.status = after.status.value
        row.current_lesson = after.current_lesson
        row.choices = list(after.choices)
        row.streak_days = after.streak_days
        row.last_active_day = after.last_active_day
        row.first_name = after.first_name
        row.timezone = after.timezone
        if seen:
            row.last_seen_at = now
        nudge = after.nudge
        row.last_activity_at = nudge.last_activity_at
        row.nudges_unanswered = nudge.nudges_unanswered
        row.last_nudge_at = nudge.last_nudge_at
        row.paused_until = nudge.paused_until
        row.snoozed_until = nudge.snoozed_until
        row.asked_to_pause = nudge.asked_to_pause
        row.handoff_open = nudge.handoff_open
        row.next_nudge_at = next_nudge_at
        row.text_only = after.text_only
        row.reviews = [[r.lesson_id, r.step_id, r.box, r.due_at.isoformat()] for r in after.reviews]
        for lesson_id, progress in after.progress.items():
            if before.progress.get(lesson_id) == progress:
                continue
            stored = self._progress.get((row.id, lesson_id))
            if stored is None and lesson_id in before.progress:  # read by someone else
                stored = await self.session.get(LessonProgressRow, (row.id, lesson_id))
            if stored is None:
                stored = LessonProgressRow(learner_id=row.id, lesson_id=lesson_id)
                self._progress[(row.id, lesson_id)] = stored
                self.session.add(stored)
            stored.status = progress.status.value
            stored.step_id = progress.step_id
            stored.score = progress.score
            stored.step_attempts = progress.step_attempts
            stored.started_at = progress.started_at
            stored.finished_at = progress.finished_at
        await self.session.flush()


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
        status=LessonStatus(row.status),
        step_id=row.step_id,
        score=row.score,
        started_at=row.started_at,
        finished_at=row.finished_at,
        step_attempts=row.step_attempts,
    )
