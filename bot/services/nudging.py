"""The reminder sweep: every due reminder goes out once, whatever the number of processes.

Due times are on the learners' rows (``next_nudge_at``, indexed). A sweep reads a batch of
due learners with one query (and one for their progress), skipping those busy in their
own turn (``FOR UPDATE SKIP LOCKED`` on PostgreSQL); decides with the pure nudge policy
and renders, in memory, with no transaction open; then, in one short transaction, claims
the learners still as they were read (locked, ``SKIP LOCKED``: a learner who wrote in the
meantime, or whom another process took, is left to the next sweep) and writes the whole
batch with one statement per table: the learners' reminder state and next due time, the
outbox rows (each with a key unique to that reminder) and the events. So a learner's own
turn never waits behind the policy, only behind a batch's few writes. A batch that fails
leaves nothing behind and is taken again by a later sweep.

On a channel that takes free text only for a while after the learner's last message
(WhatsApp's 24-hour window), the reminder's row also keeps the template to send instead
once that window has closed: which one, in which language, with which parameters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DBAPIError

from bot.channels.whatsapp.inbound import CHANNEL as WHATSAPP
from bot.channels.whatsapp.templates import reminder_template
from bot.core.channel import Capabilities, Destination
from bot.core.effects import Record, Reply
from bot.core.reminders import due_at, nudge_turn
from bot.core.rules import Rules
from bot.core.text import Text
from bot.course.holder import CourseHolder
from bot.i18n import Catalogs
from bot.services.figures import preview_learners
from bot.services.figures_live import reminder_sent
from bot.services.rendering import Renderer
from bot.store import nudge_batches
from bot.store.nudge_batches import DueLearner, LearnerUpdate
from bot.store.unit_of_work import Store

log = logging.getLogger(__name__)
OutsideWindow = Callable[[Text, Catalogs, str], dict[str, Any]]
# A reminder's form outside the window, for the channels that have one.
TEMPLATES: dict[str, OutsideWindow] = {WHATSAPP.name: reminder_template}


@dataclass
class Batch:
    """What one batch writes: every learner's new reminder state, the reminders' outbox
    rows and events, and who was reminded on which channel."""

    learners: list[LearnerUpdate] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    events: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    reminded: list[tuple[int, str]] = field(default_factory=list)

    def only(self, claimed: set[int]) -> Batch:
        """The part of the batch that goes to these learners."""
        return Batch(
            [change for change in self.learners if change.id in claimed],
            [row for row in self.outbox if row["learner_id"] in claimed],
            [event for event in self.events if event[0] in claimed],
            [pair for pair in self.reminded if pair[0] in claimed],
        )


class NudgeSweep:
    def __init__(
        self,
        store: Store,
        courses: CourseHolder,
        catalogs: Catalogs,
        rules: Rules,
        channels: Mapping[str, Capabilities],
        *,
        batch: int = 500,
        on_outbox: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.courses = courses
        self.catalogs = catalogs
        self.rules = rules
        self.channels = channels
        self.batch = batch
        self.on_outbox = on_outbox

    async def sweep(self, now: datetime) -> int:
        """Send what is due at ``now``, batch after batch; the number of reminders written.

        A database that cannot be reached ends the sweep quietly: the rows stay due, and
        the next sweep sends them. Nothing is half written: each batch is one transaction.
        A full batch of which nothing could be claimed ends the sweep too: another process
        is sweeping the same learners.
        """
        sent = 0
        while True:
            try:
                written, looked, claimed = await self._batch(now)
            except (DBAPIError, OSError) as error:
                log.warning("nudge sweep stopped, database unavailable: %s", type(error).__name__)
                break
            sent += written
            if looked < self.batch or not claimed:
                break
        if sent and self.on_outbox is not None:
            self.on_outbox()
        return sent

    async def _batch(self, now: datetime) -> tuple[int, int, int]:
        """One batch: the reminders written, the learners looked at and those claimed."""
        async with self.store.reading() as uow:
            due = await nudge_batches.read_due(uow.session, now, self.batch, lock=uow.postgres)
            previews = await preview_learners(uow.session, [learner.id for learner in due])
        if not due:
            return 0, 0, 0
        decided = self._decide(due, previews, now)
        async with self.store.unit_of_work() as uow:
            claimed = await nudge_batches.claim(uow.session, due, lock=uow.postgres)
            batch = decided.only(claimed)
            await nudge_batches.write_learners(uow.session, batch.learners)
            await nudge_batches.write_outbox(uow.session, batch.outbox)
            await nudge_batches.write_events(uow.session, batch.events, now)
        for _, channel in batch.reminded:
            reminder_sent(channel)
        if batch.reminded:
            reminded = len(batch.reminded)
            log.info("nudge sweep: %d reminders from %d due learners", reminded, len(due))
        return len(batch.reminded), len(due), len(claimed)

    def _decide(self, due: list[DueLearner], previews: set[int], now: datetime) -> Batch:
        """The policy and the rendering for a whole batch, in memory."""
        batch = Batch()
        course = self.courses.course
        rows = ReminderRows(self.catalogs, self.channels, now)
        for learner in due:
            if learner.id in previews:  # a trainer's preview is never reminded
                batch.learners.append(LearnerUpdate(learner.id, learner.state.nudge, None))
                continue
            before = learner.state
            after, effects, key = nudge_turn(before, course, now, self.rules, str(learner.id))
            next_at = due_at(after, self.rules, now, learner.group)
            batch.learners.append(LearnerUpdate(learner.id, after.nudge, next_at))
            if key is None:
                continue
            for effect in effects:
                if isinstance(effect, Record):
                    batch.events.append((learner.id, effect.name, effect.data))
            replies = [effect for effect in effects if isinstance(effect, Reply)]
            batch.outbox.extend(rows.of(learner, replies, f"nudge:{learner.id}:{key}"))
            batch.reminded.append((learner.id, learner.channel))
        return batch


class ReminderRows:
    """The outbox rows of one batch's reminders. Rendering is pure and reminders differ
    mostly in whom they go to, so each distinct message is rendered once per batch and
    copied for each learner it goes to (a person in a group, named in it, is rendered
    alone)."""

    def __init__(
        self, catalogs: Catalogs, channels: Mapping[str, Capabilities], now: datetime
    ) -> None:
        self.catalogs = catalogs
        self.channels = channels
        self.now = now
        self._renderers: dict[str, Renderer] = {}
        self._rendered: dict[tuple[str, str, str], list[dict[str, Any]]] = {}

    def of(self, learner: DueLearner, replies: list[Reply], key: str) -> list[dict[str, Any]]:
        """The rows of one reminder; ``key`` is unique to it, and so is each row's."""
        language = learner.state.language or self.catalogs.fallback
        if learner.group:
            to = Destination(
                learner.channel, learner.chat_id, key, learner.id, True, learner.first_name
            )
            return self._render(learner.channel, replies, language, to)
        memo = (learner.channel, language, repr(replies))
        shapes = self._rendered.get(memo)
        if shapes is None:
            anyone = Destination(learner.channel, "", "")
            shapes = self._render(learner.channel, replies, language, anyone)
            self._rendered[memo] = shapes
        return [
            shape
            | {
                "learner_id": learner.id,
                "chat_id": learner.chat_id,
                "inbound_key": key,
                "dedupe_key": f"{key}#{index}",
            }
            for index, shape in enumerate(shapes)
        ]

    def _render(
        self, channel_name: str, replies: list[Reply], language: str, to: Destination
    ) -> list[dict[str, Any]]:
        renderer = self._renderers.get(channel_name)
        if renderer is None:
            channel = self.channels.get(channel_name, Capabilities(channel_name))
            renderer = self._renderers[channel_name] = Renderer(self.catalogs, channel)
        rows = renderer.rows(replies, to, language, self.now)
        template = TEMPLATES.get(channel_name)
        if template is not None and rows and replies and rows[0].media is None:
            rows[0].media = template(replies[0].parts[0], self.catalogs, language)
        return [nudge_batches.outbox_values(row) for row in rows]
