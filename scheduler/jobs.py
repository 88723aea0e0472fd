"""The jobs the scheduler runs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from bot.delivery.sender import OutboxSender
from bot.store.delivery_queue import DeliveryQueue

log = logging.getLogger(__name__)


async def sweep_outbox(
    queue: DeliveryQueue, sender: OutboxSender, clock: Callable[[], datetime]
) -> None:
    """Give back messages a dead process had claimed, and make sure the sender looks."""
    recovered = await queue.recover(clock())
    if recovered:
        log.info("outbox sweep: %d messages claimed by a stopped sender are due again", recovered)
    sender.wake()


class Sweep(Protocol):
    async def sweep(self, now: datetime) -> object: ...


async def sweep(what: Sweep, clock: Callable[[], datetime]) -> None:
    """One pass of a sweep over due rows (reminders, hand-off escalations) at the clock's now."""
    await what.sweep(clock())
