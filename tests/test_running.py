"""The running coach: the scheduler really runs its sweeps."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from bot.app import build, running
from bot.nudging import NudgeSweep
from tests.conftest import settings_for


async def test_the_scheduler_runs_the_nudge_sweep(
    database_url: str, engine: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    swept: list[datetime] = []

    async def spy(self: NudgeSweep, now: datetime) -> int:
        swept.append(now)
        return 0

    monkeypatch.setattr(NudgeSweep, "sweep", spy)
    coach = build(settings_for(database_url, web_port=0, nudge_sweep_seconds=0.05))
    async with running(coach):
        for _ in range(100):
            if len(swept) >= 2:
                break
            await asyncio.sleep(0.02)
    assert len(swept) >= 2
