"""Stopping the coach on Telegram: an update in hand is handled before the coach goes."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.channel import Capabilities
from bot.core.events import Inbound
from bot.services.coach import CoachService
from bot.store.outbox import OutboundMessage
from tests.telegram_learner import coach_on_telegram, handled

pytestmark = pytest.mark.usefixtures("telegram_runtime")

ENOUGH = 10.0  # seconds: only a stop that never ends takes this long


async def test_an_update_being_handled_when_the_coach_stops_is_finished_first(
    database_url: str, engine: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with coach_on_telegram(database_url) as (coach, tg):
        assert coach.telegram is not None
        arrived, go_on = asyncio.Event(), asyncio.Event()
        handle = coach.service.handle

        async def slow(
            self: CoachService, event: Inbound, channel: Capabilities
        ) -> list[OutboundMessage]:
            arrived.set()
            await go_on.wait()  # the database is slow: the coach is asked to stop meanwhile
            return await handle(event, channel)

        monkeypatch.setattr(CoachService, "handle", slow)
        update = tg.send_command(tg.user(1001, "Amina"), "/start")
        await asyncio.wait_for(arrived.wait(), ENOUGH)

        stopping = asyncio.create_task(coach.telegram.stop_receiving())
        done, _ = await asyncio.wait([stopping], timeout=0.5)
        assert not done, "the coach stopped receiving without waiting for the update in hand"
        go_on.set()
        await asyncio.wait_for(stopping, ENOUGH)
        assert await handled(coach, update)
