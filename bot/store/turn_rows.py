"""The rows of a batch of learner turns, read together and written together.

Events that arrive together are handled in one transaction (``bot.services.group_commit``):
one query per table reads the batch's learners (locked on PostgreSQL, in the order of their
ids, so two processes' batches never wait on each other in a circle), their lessons'
progress and their requests for a person; the turns run in memory; then one statement per
table writes what they changed: the learners (executemany), new and changed progress, the
update keys, the event log and the outbox (whose new ids come back with the rows' dedupe keys).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.events import Sender
from bot.core.state import LearnerState
from bot.store.delivery_queue import PENDING, SENDING
from bot.store.known_states import KnownStates, Stamp, stamp, written
from bot.store.learners import (
    changed_progress,
    learner_state,
    learner_values,
    new_learner,
    progress_values,
)
from bot.store.nudge_batches import (
    EVENTS,
    LEARNERS,
    OUTBOX,
    PROGRESS,
    outbox_values,
    read_progress,
)
from bot.store.outbox import OutboxDraft
from bot.store.outbox_notices import announce_written
from bot.store.unit_of_work import KEYS, UnitOfWork

Identity = tuple[str, str, str]


def identity(sender: Sender) -> Identity:
    """One learner: a person in a chat on a channel."""
    return (sender.channel, sender.chat_id, sender.user_id)


@dataclass(frozen=True)
class Claim:
    """New messages of these channels, due by ``now``, are claimed as they are written,
    until ``until``: this process sends them without claiming them from the outbox."""

    channels: frozenset[str]
    now: datetime
    until: datetime


@dataclass(frozen=True)
class Held:
    """A learner's row as a turn needs it (their state is read beside it)."""

    id: int
    channel: str
    chat_id: str
    user_id: str
    new: bool  # created by this transaction
    stamp: Stamp  # as read (``bot.store.known_states``)


class TurnRows:
    """What a batch of turns reads at once and writes at once, in one unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self._stored_progress: set[tuple[int, str]] = set()
        # Each learner's state as the batch writes it, with their row's stamp once written.
        self.written: dict[int, tuple[Stamp, LearnerState]] = {}
        self._clear()

    def _clear(self) -> None:
        self._learners: list[dict[str, Any]] = []
        self._progress_new: list[dict[str, Any]] = []
        self._progress_changed: list[dict[str, Any]] = []
        self._keys: list[dict[str, Any]] = []
        self._events: list[dict[str, Any]] = []
        self._outbox: list[OutboxDraft] = []

    async def learners(
        self,
        senders: Sequence[Sender],
        now: datetime,
        timezone: str,
        known: KnownStates | None = None,
    ) -> dict[Identity, tuple[Held, LearnerState]]:
        """The learners behind these senders with their state, locked for the transaction
        (PostgreSQL); those seen for the first time are created, in one statement. The
        progress of a learner whose state is ``known`` as their row is now is not read."""
        connection = await self.uow.session.connection()
        wanted: dict[Identity, Sender] = {identity(s): s for s in senders}
        if not wanted:
            return {}
        who = tuple_(LEARNERS.c.channel, LEARNERS.c.chat_id, LEARNERS.c.user_id)
        query = select(LEARNERS).where(who.in_(sorted(wanted))).order_by(LEARNERS.c.id)
        if self.uow.postgres:
            query = query.with_for_update()
        rows: dict[Identity, Row[Any]] = {
            (row.channel, row.chat_id, row.user_id): row for row in await connection.execute(query)
        }
        new = [wanted[key] for key in sorted(wanted) if key not in rows]  # locks in one order
        created: set[int] = set()
        if new:
            inserted = await connection.execute(
                insert(LEARNERS).returning(*LEARNERS.c),
                [new_learner(sender, now, timezone) for sender in new],
            )
            for row in inserted:
                rows[(row.channel, row.chat_id, row.user_id)] = row
                created.add(row.id)
        states: dict[int, LearnerState] = {}
        for row in rows.values():
            state = known.get(row) if known is not None and row.id not in created else None
            if state is not None:
                states[row.id] = state
        unknown = [row.id for row in rows.values() if row.id not in states]
        progress = await read_progress(connection, unknown) if unknown else {}
        for row in rows.values():
            if row.id not in states:
                states[row.id] = learner_state(row, progress.get(row.id, {}))
        # Every lesson in a state has its row: read now, or written when the state was kept.
        self._stored_progress |= {(i, lesson) for i, s in states.items() for lesson in s.progress}
        return {
            key: (
                Held(row.id, row.channel, row.chat_id, row.user_id, row.id in created, stamp(row)),
                states[row.id],
            )
            for key, row in rows.items()
        }

    def save(
        self,
        learner: Held,
        before: LearnerState,
        after: LearnerState,
        now: datetime,
        next_nudge_at: datetime | None,
    ) -> None:
        """Keep what the turn changed, to be written with the batch (``flush``)."""
        self._learners.append({"b_id": learner.id, **learner_values(after, now, next_nudge_at)})
        self.written[learner.id] = (written(learner.stamp), after)
        for lesson_id, progress in changed_progress(before, after):
            values = progress_values(progress)
            if (learner.id, lesson_id) in self._stored_progress:
                key = {"b_learner": learner.id, "b_lesson": lesson_id}
                self._progress_changed.append({**key, **values})
            else:
                self._stored_progress.add((learner.id, lesson_id))
                key = {"learner_id": learner.id, "lesson_id": lesson_id}
                self._progress_new.append({**key, **values})

    def remember(self, key: str, learner_id: int, at: datetime) -> None:
        self._keys.append({"key": key, "learner_id": learner_id, "at": at})

    def record(self, learner_id: int, name: str, data: dict[str, Any], at: datetime) -> None:
        self._events.append({"learner_id": learner_id, "name": name, "data": data, "at": at})

    def send(self, rows: list[OutboxDraft]) -> list[OutboxDraft]:
        """These messages go in the outbox with the batch; their ids are set then."""
        self._outbox.extend(rows)
        return rows

    async def flush(self, claim: Claim | None = None) -> None:
        """Write what the turns kept: one statement per table, learners first. With a
        ``claim``, new messages go out claimed for this process's sender where they may."""
        connection = await self.uow.session.connection()
        if claim is not None:
            await self._claim(connection, claim)
        # The SET clauses are the parameters' columns (the same in every row of a list).
        if self._learners:
            await connection.execute(
                update(LEARNERS)
                .where(LEARNERS.c.id == bindparam("b_id"))
                .values(version=LEARNERS.c.version + 1),
                self._learners,
            )
        if self._progress_changed:
            await connection.execute(
                update(PROGRESS).where(
                    and_(
                        PROGRESS.c.learner_id == bindparam("b_learner"),
                        PROGRESS.c.lesson_id == bindparam("b_lesson"),
                    )
                ),
                self._progress_changed,
            )
        if self._progress_new:
            await connection.execute(insert(PROGRESS), self._progress_new)
        if self._keys:
            await connection.execute(insert(KEYS), self._keys)
        if self._events:
            await connection.execute(insert(EVENTS), self._events)
        if self._outbox:
            # Each new id is known by its row's unique dedupe key: one INSERT on every
            # database (asking for the ids in the rows' order would take one per row on SQLite).
            added = await connection.execute(
                insert(OUTBOX).returning(OUTBOX.c.dedupe_key, OUTBOX.c.id),
                [outbox_values(row) for row in self._outbox],
            )
            ids = {key: outbox_id for key, outbox_id in added}
            for row in self._outbox:
                row.id = ids[row.dedupe_key]
            await announce_written(connection, ((row.channel, row.chat_id) for row in self._outbox))
        self._clear()

    async def _claim(self, connection: AsyncConnection, claim: Claim) -> None:
        """Claim the new messages due now of the claim's channels, each chat's up to its
        first one not due, unless the chat has others waiting or being sent: those go first,
        and then these, claimed from the outbox as usual. One query for the batch."""
        due: list[OutboxDraft] = []
        stopped: set[tuple[str, str]] = set()
        for row in self._outbox:
            chat = (row.channel, row.chat_id)
            if row.status != PENDING or row.channel not in claim.channels:
                continue
            if chat in stopped or row.not_before > claim.now:
                stopped.add(chat)
            else:
                due.append(row)
        if not due:
            return
        waiting = (
            select(OUTBOX.c.channel, OUTBOX.c.chat_id)
            .distinct()
            .where(
                OUTBOX.c.status.in_((PENDING, SENDING)),
                OUTBOX.c.channel.in_({row.channel for row in due}),
                OUTBOX.c.chat_id.in_({row.chat_id for row in due}),
            )
        )
        busy = {(channel, chat_id) for channel, chat_id in await connection.execute(waiting)}
        for row in due:
            if (row.channel, row.chat_id) not in busy:
                row.status = SENDING
                row.claimed_until = claim.until
