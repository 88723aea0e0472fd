"""The running coach: the scheduler really runs its sweeps, and the coach stops cleanly."""

from __future__ import annotations

import asyncio
import gc
import logging
from datetime import datetime

import pytest
from aiohttp import ClientSession
from sqlalchemy import text

from bot.app import build, running
from bot.services.nudging import NudgeSweep
from tests.conftest import settings_for
from tests.telegram_learner import TelegramLearner, coach_on_telegram


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


async def test_a_sweep_under_way_when_the_coach_stops_finishes_before_the_database_closes(
    database_url: str, engine: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled halfway through a transaction, a sweep left a connection closing after the
    store had closed, and on SQLite the test's event loop then waited for it for ever."""
    coach = build(settings_for(database_url, web_port=0))
    started, go_on = asyncio.Event(), asyncio.Event()
    outcome: list[str] = []

    async def slow_sweep(self: NudgeSweep, now: datetime) -> int:
        started.set()
        try:
            await go_on.wait()  # the query is slow: the coach stops meanwhile
            async with coach.store.unit_of_work() as uow:
                await uow.session.execute(text("SELECT 1"))
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise
        outcome.append("finished")
        return 0

    monkeypatch.setattr(NudgeSweep, "sweep", slow_sweep)
    async with running(coach):
        await asyncio.wait_for(started.wait(), 10)
        go_on.set()
    assert outcome == ["finished"]


async def test_the_coach_says_the_port_it_really_listens_on(
    database_url: str, engine: object
) -> None:
    coach = build(settings_for(database_url, web_port=0))
    async with running(coach) as url:
        assert not url.endswith(":0")
        async with ClientSession() as http, http.get(f"{url}/healthz") as answer:
            assert answer.status == 200


@pytest.mark.usefixtures("telegram_runtime")
async def test_the_log_names_the_telegram_runtime_and_never_the_bot_token(
    database_url: str, engine: object, telegram_runtime: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # as `coach run` logs
    async with coach_on_telegram(database_url) as (coach, tg):
        amina = TelegramLearner(coach, tg, tg.user(1001, "Amina"))
        await amina.says("/start")
        await amina.taps("English")
    assert f"telegram runtime: {telegram_runtime}" in caplog.messages
    secret = tg.token.split(":", 1)[1]
    assert not [record.name for record in caplog.records if secret in record.getMessage()]


async def test_a_long_lived_coach_sets_what_it_loaded_aside_from_the_cycle_collector(
    database_url: str, engine: object
) -> None:
    """``coach run``: the course, the catalogs and the libraries are loaded once and kept;
    Python's full collections would walk them all again and again (a pause under load)."""
    coach = build(settings_for(database_url, web_port=0))
    try:
        async with running(coach, long_lived=True):
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()  # this test process goes on with other tests
    async with running(build(settings_for(database_url, web_port=0))):
        assert gc.get_freeze_count() == 0  # tests and commands keep the usual collector
