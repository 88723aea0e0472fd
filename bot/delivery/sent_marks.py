""" "Sent" marks written together: one short transaction for the messages the platform
accepted within a few milliseconds of each other, instead of one each.

A chat's next messages are claimed only once its last one is marked (the outbox never lets
a message overtake an earlier one still being sent), so the marks are written as soon as a
batch is full or a few milliseconds have passed, and the sender is woken when they are. A
mark that cannot be written (the database is away) is kept and written again; a process
that dies first leaves those messages to be sent again when their claim runs out, like the
messages it was sending: the platforms take no idempotency key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from bot.store.delivery_queue import DeliveryQueue, SentMark
from bot.tracebacks import without_messages

log = logging.getLogger(__name__)


class SentMarks:
    def __init__(
        self,
        queue: DeliveryQueue,
        *,
        most: int = 64,
        within: float = 0.005,
        retry_seconds: float = 1.0,
        on_written: Callable[[], None] = lambda: None,
    ) -> None:
        self.queue = queue
        self.most = most
        self.within = within
        self.retry_seconds = retry_seconds
        self.on_written = on_written
        self._waiting: list[SentMark] = []
        self._full = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None

    def add(self, message_id: int, platform_message_id: str | None, at: datetime) -> None:
        """The platform accepted this message: mark it sent with the next batch."""
        self._waiting.append(SentMark(message_id, platform_message_id, at))
        if len(self._waiting) >= self.most:
            self._full.set()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_soon())

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    async def flush(self) -> None:
        """Write every mark waiting now (the sender stops, or a drain ends); what cannot
        be written stays waiting."""
        if self._writer is not None and not self._writer.done():
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        while self._waiting and await self._write():
            pass

    async def _write_soon(self) -> None:
        while self._waiting:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.within):
                    await self._full.wait()
            if not await self._write():
                await asyncio.sleep(self.retry_seconds)

    async def _write(self) -> bool:
        self._full.clear()
        marks, self._waiting = self._waiting[: self.most], self._waiting[self.most :]
        if len(self._waiting) >= self.most:
            self._full.set()
        try:
            await self.queue.sent_many(marks)
        except BaseException as error:  # kept, and written again: a mark is never dropped
            self._waiting[:0] = marks
            if not isinstance(error, Exception):
                raise
            log.warning("%d sent marks not written yet\n%s", len(marks), without_messages(error))
            return False
        self.on_written()
        return True
