"""The reminder sweep: every due reminder goes out once, whatever the number of processes.

Due times are on the learners' rows (``next_nudge_at``, indexed). A sweep takes a batch of
due learners, locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so another process takes
the next ones), decides with the pure nudge policy, writes the reminder to the outbox with
a key unique to that reminder, and sets the next due time, all in one transaction.

On a channel that takes free text only for a while after the learner's last message
(WhatsApp's 24-hour window), the reminder's row also keeps the template to send instead
once that window has closed: which one, in which language, with which parameters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
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
from bot.store.tables import Learner
from bot.store.unit_of_work import Store, UnitOfWork

log = logging.getLogger(__name__)
OutsideWindow = Callable[[Text, Catalogs, str], dict[str, Any]]
# A reminder's form outside the window, for the channels that have one.
TEMPLATES: dict[str, OutsideWindow] = {WHATSAPP.name: reminder_template}


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
        written = 0
        async with self.store.unit_of_work() as uow:
            rows = await uow.learners.due_for_nudge(now, self.batch)
            previews = await preview_learners(uow.session, [row.id for row in rows])
            for row in rows:
                if row.id in previews:  # a trainer's preview is never reminded
                    row.next_nudge_at = None
                    continue
                written += await self._remind(uow, row, now)
        if written:
            log.info("nudge sweep: %d reminders from %d due learners", written, len(rows))
        return written, len(rows)

    async def _remind(self, uow: UnitOfWork, row: Learner, now: datetime) -> int:
        group = row.in_group
        before = await uow.learners.state_of(row)
        after, effects, key = nudge_turn(before, self.courses.course, now, self.rules, str(row.id))
        await uow.learners.save(
            row, before, after, now, due_at(after, self.rules, now, group), seen=False
        )
        if key is None:
            return 0
        for effect in effects:
            if isinstance(effect, Record):
                await uow.record(row.id, effect.name, effect.data, now)
        channel = self.channels.get(row.channel, Capabilities(row.channel))
        to = Destination(
            row.channel, row.chat_id, f"nudge:{row.id}:{key}", row.id, group, row.first_name
        )
        replies = [effect for effect in effects if isinstance(effect, Reply)]
        language = before.language or self.catalogs.fallback
        rows = Renderer(self.catalogs, channel).rows(replies, to, language, now)
        template = TEMPLATES.get(row.channel)
        if template is not None and rows and replies and rows[0].media is None:
            rows[0].media = template(replies[0].parts[0], self.catalogs, language)
        for outbox_row in rows:
            await uow.outbox.add(outbox_row)
        reminder_sent(row.channel)
        return 1
