"""The reminder sweep: every due reminder goes out once, whatever the number of processes.

Due times are on the learners' rows (``next_nudge_at``, indexed). A sweep takes a batch of
due learners in one query, locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so another
process takes the next ones and a learner busy in their own turn is skipped, not waited
for), decides with the pure nudge policy and renders in memory, then writes the whole
batch with one statement per table: the learners' reminder state and next due time, the
outbox rows (each with a key unique to that reminder) and the events, in one short
transaction. A batch that fails leaves nothing behind and is taken again by a later sweep.

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
from bot.core.effects import Effect, Record, Reply
from bot.core.reminders import due_at, nudge_turn
from bot.core.rules import Rules
from bot.core.text import Text
from bot.course.holder import CourseHolder
from bot.i18n import Catalogs
from bot.services.figures import preview_learners
from bot.services.figures_live import reminder_sent
from bot.services.rendering import Renderer
from bot.store.nudge_batches import (
    DueLearner,
    LearnerUpdate,
    read_due,
    write_events,
    write_learners,
    write_outbox,
)
from bot.store.tables import OutboxRow
from bot.store.unit_of_work import Store

log = logging.getLogger(__name__)
OutsideWindow = Callable[[Text, Catalogs, str], dict[str, Any]]
# A reminder's form outside the window, for the channels that have one.
TEMPLATES: dict[str, OutsideWindow] = {WHATSAPP.name: reminder_template}


@dataclass
class Batch:
    """What one batch writes: every learner's new reminder state, the reminders' outbox
    rows and events, and the channel of each reminder."""

    learners: list[LearnerUpdate] = field(default_factory=list)
    outbox: list[OutboxRow] = field(default_factory=list)
    events: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)


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
        """
        sent = 0
        while True:
            try:
                written, looked = await self._batch(now)
            except (DBAPIError, OSError) as error:
                log.warning("nudge sweep stopped, database unavailable: %s", type(error).__name__)
                break
            sent += written
            if looked < self.batch:
                break
        if sent and self.on_outbox is not None:
            self.on_outbox()
        return sent

    async def _batch(self, now: datetime) -> tuple[int, int]:
        """One batch in one transaction; the reminders written and the learners looked at."""
        async with self.store.unit_of_work() as uow:
            due = await read_due(uow.session, now, self.batch, lock=uow.postgres)
            previews = await preview_learners(uow.session, [learner.id for learner in due])
            batch = self._decide(due, previews, now)
            await write_learners(uow.session, batch.learners)
            await write_outbox(uow.session, batch.outbox)
            await write_events(uow.session, batch.events, now)
        for channel in batch.reminded:
            reminder_sent(channel)
        if batch.reminded:
            log.info(
                "nudge sweep: %d reminders from %d due learners", len(batch.reminded), len(due)
            )
        return len(batch.reminded), len(due)

    def _decide(self, due: list[DueLearner], previews: set[int], now: datetime) -> Batch:
        """The policy and the rendering for a whole batch, in memory."""
        batch = Batch()
        course = self.courses.course
        renderers: dict[str, Renderer] = {}
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
            renderer = renderers.get(learner.channel)
            if renderer is None:
                channel = self.channels.get(learner.channel, Capabilities(learner.channel))
                renderer = renderers[learner.channel] = Renderer(self.catalogs, channel)
            self._remind(batch, renderer, learner, effects, key, now)
        return batch

    def _remind(
        self,
        batch: Batch,
        renderer: Renderer,
        learner: DueLearner,
        effects: list[Effect],
        key: str,
        now: datetime,
    ) -> None:
        """One learner's reminder: its events and outbox rows, added to the batch."""
        for effect in effects:
            if isinstance(effect, Record):
                batch.events.append((learner.id, effect.name, effect.data))
        to = Destination(
            learner.channel,
            learner.chat_id,
            f"nudge:{learner.id}:{key}",
            learner.id,
            learner.group,
            learner.first_name,
        )
        replies = [effect for effect in effects if isinstance(effect, Reply)]
        language = learner.state.language or self.catalogs.fallback
        rows = renderer.rows(replies, to, language, now)
        template = TEMPLATES.get(learner.channel)
        if template is not None and rows and replies and rows[0].media is None:
            rows[0].media = template(replies[0].parts[0], self.catalogs, language)
        batch.outbox.extend(rows)
        batch.reminded.append(learner.channel)
