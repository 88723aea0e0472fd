"""The reminder sweep's SQL: one statement per table for a whole batch of learners.

A batch is read with one query for the due learners and one for their lesson progress.
It is written, in a transaction of its own, by one query that claims the learners still
as they were read (same ``version``; locked, ``SKIP LOCKED`` on PostgreSQL), one
``UPDATE`` of the learners (executemany), one ``INSERT`` of the outbox rows and one
``INSERT`` of the events. An outbox row whose dedupe key is already there is left as it
is, so a reminder written twice is sent once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.core.nudges import NudgeState
from bot.core.state import LearnerState, LessonProgress
from bot.store.learners import LESSON_STATUS, learner_state
from bot.store.outbox import OutboxDraft
from bot.store.outbox_notices import announce_written
from bot.store.tables import EventRow, Learner, LessonProgressRow, OutboxRow

LEARNERS = cast(Table, Learner.__table__)
PROGRESS = cast(Table, LessonProgressRow.__table__)
OUTBOX = cast(Table, OutboxRow.__table__)
EVENTS = cast(Table, EventRow.__table__)
OUTBOX_COLUMNS = tuple(column.key for column in OUTBOX.columns if column.key != "id")
# What the policy and the reminder's row need of a learner (not their dates of creation or
# last sight: every column read costs its conversion, 500 times a batch).
STATE_COLUMNS = tuple(
    LEARNERS.c[name]
    for name in (
        "id",
        "version",
        "channel",
        "chat_id",
        "user_id",
        "first_name",
        "language",
        "status",
        "timezone",
        "current_lesson",
        "choices",
        "streak_days",
        "last_active_day",
        "last_activity_at",
        "nudges_unanswered",
        "last_nudge_at",
        "paused_until",
        "snoozed_until",
        "asked_to_pause",
        "handoff_open",
        "reviews",
        "text_only",
    )
)


PROGRESS_COLUMNS = tuple(
    PROGRESS.c[name]
    for name in (
        "learner_id",
        "lesson_id",
        "status",
        "step_id",
        "score",
        "step_attempts",
        "started_at",
        "finished_at",
    )
)


@dataclass(frozen=True)
class DueLearner:
    """A due learner as the policy sees them, with what the reminder's row needs."""

    id: int
    version: int
    channel: str
    chat_id: str
    first_name: str | None
    group: bool
    state: LearnerState


@dataclass(frozen=True)
class LearnerUpdate:
    """What a reminder (or its absence) changes on one learner's row."""

    id: int
    nudge: NudgeState
    next_nudge_at: datetime | None


async def read_due(
    session: AsyncSession, now: datetime, limit: int, lock: bool
) -> list[DueLearner]:
    """The due learners, oldest due first, with their progress. ``lock`` (PostgreSQL): the
    learners whose row is locked now, busy in their own turn, are skipped."""
    query = (
        select(*STATE_COLUMNS)
        .where(LEARNERS.c.next_nudge_at <= now)
        .order_by(LEARNERS.c.next_nudge_at)
        .limit(limit)
    )
    if lock:
        query = query.with_for_update(skip_locked=True)
    connection = await session.connection()
    rows = (await connection.execute(query)).all()
    if not rows:
        return []
    progress = await read_progress(connection, [row.id for row in rows])
    return [_due_learner(row, progress.get(row.id, {})) for row in rows]


async def claim(session: AsyncSession, read: Sequence[DueLearner], lock: bool) -> set[int]:
    """Which of the learners read are still as they were (every change to a learner moves
    their ``version``), locked for this transaction; ``lock`` (PostgreSQL): those locked
    elsewhere, in their own turn or by another sweep, are skipped, never waited for."""
    if not read:
        return set()
    versions = {learner.id: learner.version for learner in read}
    # By id alone, so that both engines find the rows by their primary key.
    query = select(LEARNERS.c.id, LEARNERS.c.version).where(LEARNERS.c.id.in_(list(versions)))
    if lock:
        query = query.with_for_update(skip_locked=True)
    found = await (await session.connection()).execute(query)
    return {row.id for row in found if versions[row.id] == row.version}


async def read_progress(
    connection: AsyncConnection, ids: Sequence[int]
) -> dict[int, dict[str, LessonProgress]]:
    """These learners' lesson progress, by learner and lesson: one query. A learner far in
    the course has dozens of rows: they are read by position."""
    query = select(*PROGRESS_COLUMNS).where(PROGRESS.c.learner_id.in_(ids))
    found: dict[int, dict[str, LessonProgress]] = {}
    for (
        learner,
        lesson,
        status,
        step,
        score,
        attempts,
        started,
        finished,
    ) in await connection.execute(query):
        found.setdefault(learner, {})[lesson] = LessonProgress(
            lesson, LESSON_STATUS[status], step, score, started, finished, attempts
        )
    return found


def _due_learner(row: Row[Any], progress: dict[str, LessonProgress]) -> DueLearner:
    state = learner_state(row, progress)
    return DueLearner(
        row.id,
        row.version,
        row.channel,
        row.chat_id,
        row.first_name,
        row.chat_id != row.user_id,
        state,
    )


async def write_learners(session: AsyncSession, updates: Sequence[LearnerUpdate]) -> None:
    """The reminder state and next due time of every learner of the batch: one statement."""
    if not updates:
        return
    statement = (
        update(LEARNERS)
        .where(LEARNERS.c.id == bindparam("learner"))
        .values(
            last_activity_at=bindparam("activity"),
            nudges_unanswered=bindparam("unanswered"),
            last_nudge_at=bindparam("nudged_at"),
            paused_until=bindparam("paused"),
            snoozed_until=bindparam("snoozed"),
            asked_to_pause=bindparam("asked"),
            handoff_open=bindparam("handoff"),
            next_nudge_at=bindparam("due"),
            version=LEARNERS.c.version + 1,
        )
    )
    rows = [
        {
            "learner": change.id,
            "activity": change.nudge.last_activity_at,
            "unanswered": change.nudge.nudges_unanswered,
            "nudged_at": change.nudge.last_nudge_at,
            "paused": change.nudge.paused_until,
            "snoozed": change.nudge.snoozed_until,
            "asked": change.nudge.asked_to_pause,
            "handoff": change.nudge.handoff_open,
            "due": change.next_nudge_at,
        }
        for change in updates
    ]
    await (await session.connection()).execute(statement, rows)


def outbox_values(row: OutboxRow | OutboxDraft) -> dict[str, Any]:
    """A rendered outbox row as the values of its ``INSERT``."""
    return {key: getattr(row, key) for key in OUTBOX_COLUMNS}


async def write_outbox(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """The batch's reminders: one statement; a row whose dedupe key exists is skipped."""
    if not rows:
        return
    dialect = session.bind.dialect.name if session.bind is not None else ""
    statement: Any
    if dialect == "postgresql":
        statement = postgresql.insert(OUTBOX).on_conflict_do_nothing(index_elements=["dedupe_key"])
    elif dialect == "sqlite":
        statement = sqlite.insert(OUTBOX).on_conflict_do_nothing(index_elements=["dedupe_key"])
    else:
        statement = insert(OUTBOX)
    connection = await session.connection()
    await connection.execute(statement, list(rows))
    await announce_written(connection, ((row["channel"], row["chat_id"]) for row in rows))


async def write_events(
    session: AsyncSession, events: Sequence[tuple[int, str, dict[str, Any]]], at: datetime
) -> None:
    """The batch's events (learner, name, data): one statement."""
    if not events:
        return
    values = [
        {"learner_id": learner, "name": name, "data": data, "at": at}
        for learner, name, data in events
    ]
    await (await session.connection()).execute(insert(EVENTS), values)
