"""The channel figures a lesson's data cost is told with are read once for all the turns
that need them at the same moment, not once each."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.channel import Buttons, Capabilities
from bot.services.transfers import Transfers
from bot.store.unit_of_work import Store

CHANNEL = Capabilities("test", Buttons.INLINE, pull=False)


async def test_turns_that_arrive_together_wait_for_one_read(engine: AsyncEngine) -> None:
    now = [0.0]
    transfers = Transfers(Store(engine), refresh_seconds=60, clock=lambda: now[0])
    reads: list[str] = []
    real = transfers.media.kept_sizes

    async def counted(channel: str) -> dict[str, tuple[int, int]]:
        reads.append(channel)
        await asyncio.sleep(0.01)  # the read takes a while: the others come meanwhile
        return {"media/a.png": (1000, 800)} if len(reads) > 1 else await real(channel)

    transfers.media.kept_sizes = counted  # type: ignore[method-assign]
    first = await asyncio.gather(*(transfers.of(CHANNEL) for _ in range(20)))
    assert len(reads) == 1 and all(t.kept == {} for t in first)
    now[0] = 30.0
    await asyncio.gather(*(transfers.of(CHANNEL) for _ in range(20)))
    assert len(reads) == 1  # within the minute: no read at all
    now[0] = 61.0
    later = await asyncio.gather(*(transfers.of(CHANNEL) for _ in range(20)))
    assert len(reads) == 2
    assert all(t.kept == {"media/a.png": (1000, 800)} for t in later)
