"""A database that stops answering: every learner event fails quickly as Unavailable,
so the channel can say "try again", and nothing hangs or half-happens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.channel import Buttons, Capabilities
from bot.services.coach import CoachService, Unavailable
from bot.store.database import create_engine
from tests.builders import button, coach_service, command, sender
from tests.stalled_proxy import stalled_proxy

CHANNEL = Capabilities("test", Buttons.INLINE, pull=True)
SHORT = 0.5  # seconds: the bound under test, kept short so the suite stays quick
NEVER = 15.0  # seconds: far beyond every bound; a test that waits this long found a hang


@pytest.fixture
async def bounded(engine: AsyncEngine, database_url: str) -> AsyncIterator[CoachService]:
    """The coach on the test database, with every database wait bounded by SHORT."""
    short = create_engine(database_url, timeout=SHORT)
    yield coach_service(short)
    await short.dispose()


async def holding_the_learners_table(engine: AsyncEngine, release: asyncio.Event) -> None:
    """Another program keeps the learners locked until ``release`` is set."""
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(sql("BEGIN"))
            await connection.execute(sql("LOCK TABLE learners IN ACCESS EXCLUSIVE MODE"))
        else:
            await connection.execute(sql("SELECT 1"))  # BEGIN IMMEDIATE: the write lock
        await release.wait()
        await connection.rollback()


async def test_a_locked_learners_table_makes_every_event_unavailable_not_a_hang(
    bounded: CoachService, engine: AsyncEngine
) -> None:
    await bounded.handle(command("start", sender("u1")), CHANNEL)
    release = asyncio.Event()
    holder = asyncio.create_task(holding_the_learners_table(engine, release))
    await asyncio.sleep(0.2)
    try:
        events = [button("lang:en", sender(f"u{n}")) for n in range(30)]
        results = await asyncio.wait_for(
            asyncio.gather(*(bounded.handle(e, CHANNEL) for e in events), return_exceptions=True),
            NEVER,
        )
    finally:
        release.set()
        await holder
    assert [type(r).__name__ for r in results] == ["Unavailable"] * 30
    replies = await bounded.handle(button("lang:en", sender("u1")), CHANNEL)
    assert replies, "once the lock is gone, the same learner is answered"


@pytest.mark.postgres
async def test_a_frozen_network_to_postgresql_makes_events_unavailable_not_a_hang(
    postgres_url: str, engine: AsyncEngine
) -> None:
    async with stalled_proxy(postgres_url) as (proxy, through):
        frozen = create_engine(through, timeout=SHORT)
        service = coach_service(frozen)
        await service.handle(command("start", sender("u1")), CHANNEL)
        proxy.freeze()
        with pytest.raises(Unavailable):
            await asyncio.wait_for(service.handle(button("lang:en", sender("u1")), CHANNEL), NEVER)
        with pytest.raises(Unavailable):
            await asyncio.wait_for(service.messages_after("test", "u1", 0), NEVER)
        proxy.thaw()
        replies = await asyncio.wait_for(
            service.handle(button("lang:en", sender("u1")), CHANNEL), NEVER
        )
        assert replies, "once the network is back, the learner is answered"
        await frozen.dispose()
