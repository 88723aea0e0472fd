"""How each channel moves a lesson to the learner's phone, for the data a lesson is said to
cost: the channel's own figures, and the sizes of the files its servers keep as its uploads
reported them. Read from the store at most once a minute per channel, so that a turn costs
no query of its own."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.core.channel import Capabilities
from bot.core.data_cost import Transfer
from bot.store.media import MediaCache
from bot.store.unit_of_work import Store

log = logging.getLogger(__name__)
REFRESH_SECONDS = 60.0


def transfer_of(channel: Capabilities, kept: dict[str, tuple[int, int]]) -> Transfer:
    return Transfer(
        message_bytes=channel.message_bytes,
        media_overhead=channel.media_overhead,
        sends=frozenset(
            (channel.sends if channel.downloads is None else channel.downloads) & {"image", "audio"}
        ),
        kept=kept,
        webp=channel.webp,
    )


class Transfers:
    def __init__(
        self,
        store: Store,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.media = MediaCache(store)
        self.refresh_seconds = refresh_seconds
        self.clock = clock
        self._read: dict[str, tuple[float, dict[str, tuple[int, int]]]] = {}
        self._reading: dict[str, asyncio.Task[dict[str, tuple[int, int]]]] = {}

    async def of(self, channel: Capabilities) -> Transfer:
        """The channel's figures; when they are due to be read again, the turns that ask
        meanwhile wait for one read together (not one read each, all at once)."""
        read_at, kept = self._read.get(channel.name, (None, {}))
        now = self.clock()
        if read_at is None or now - read_at >= self.refresh_seconds:
            reading = self._reading.get(channel.name)
            loop = asyncio.get_running_loop()
            if reading is None or reading.done() or reading.get_loop() is not loop:
                reading = loop.create_task(self._refresh(channel.name, now, kept))
                self._reading[channel.name] = reading
            kept = await asyncio.shield(reading)
        return transfer_of(channel, kept)

    async def _refresh(
        self, channel: str, now: float, kept: dict[str, tuple[int, int]]
    ) -> dict[str, tuple[int, int]]:
        try:
            kept = await self.media.kept_sizes(channel)
        except (DBAPIError, OSError, PoolTimeout) as error:  # the turn itself will say
            log.info("kept sizes of %s not read: %s", channel, type(error).__name__)
        else:
            self._read[channel] = (now, kept)
        return kept
