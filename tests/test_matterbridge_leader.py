"""Two coach processes on one PostgreSQL database and one bridge: only the elected one follows
the bridge's stream; when it stops or loses its connection the other follows it within
seconds, and what was said meanwhile is answered once. Both post replies."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Coach
from bot.channels.matterbridge.stream import reader_name
from bot.services.leader import Election
from bot.store.database import create_engine
from bot.store.leader import AdvisoryLocks, lock_key
from tests.conftest import emptied
from tests.fakes.matterbridge_api import FakeMatterbridge, Person, fake_matterbridge
from tests.matterbridge_learner import (
    GREETING,
    coach_on_matterbridge,
    follower,
    handled,
    said_to,
)
from tests.telegram_learner import drained, eventually

ANA = Person("Ana", "33611111111@s.whatsapp.net")
BOB = Person("Bob", "33622222222@s.whatsapp.net")


@pytest.fixture
async def url(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """An emptied PostgreSQL database; coaches built from now on ask to lead every 0.1 s and
    check every 0.2 s that they still do."""
    engine = create_engine(postgres_url)
    await emptied(engine)
    await engine.dispose()
    monkeypatch.setenv("COACH_LEADER_RETRY_SECONDS", "0.1")
    monkeypatch.setenv("COACH_LEADER_CHECK_SECONDS", "0.2")
    return postgres_url


async def until(condition: Callable[[], bool], within: float = 5.0) -> float:
    """Wait until ``condition`` holds; the seconds it took."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    while not condition():
        if loop.time() - began > within:
            raise AssertionError(f"still not true after {within} s")
        await asyncio.sleep(0.01)
    return loop.time() - began


async def holders(engine: AsyncEngine, name: str) -> list[int]:
    """The server processes holding the advisory lock for ``name``."""
    key = lock_key(name) & 0xFFFFFFFFFFFFFFFF
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND classid::bigint = :high AND objid::bigint = :low AND objsubid = 1"
            ),
            {"high": key >> 32, "low": key & 0xFFFFFFFF},
        )
        return [row[0] for row in rows]


def election(coach: Coach) -> Election:
    chosen = follower(coach).election
    assert chosen is not None
    return chosen


def leads(coach: Coach) -> bool:
    return bool(election(coach).leading)


def attempts(coach: Coach) -> int:
    return election(coach).attempts


@contextlib.asynccontextmanager
async def two_coaches(
    url: str, bridge: FakeMatterbridge
) -> AsyncIterator[tuple[list[Coach], list[contextlib.AsyncExitStack]]]:
    """Two whole coaches on one database and one bridge, each stoppable on its own."""
    async with contextlib.AsyncExitStack() as first, contextlib.AsyncExitStack() as second:
        coaches: list[Coach] = []
        for stack in (first, second):
            coach, _ = await stack.enter_async_context(
                coach_on_matterbridge(url, bridge, greeted=False)
            )
            coaches.append(coach)
        yield coaches, [first, second]


async def one_reads(coaches: list[Coach], bridge: FakeMatterbridge) -> tuple[int, Coach, Coach]:
    """Wait until one coach follows the stream and the other was told it does not lead; the
    leader's index, the leader, the other."""
    await until(lambda: sum(leads(c) for c in coaches) == 1 and bridge.streaming == 1)
    index = 0 if leads(coaches[0]) else 1
    leader, other = coaches[index], coaches[1 - index]
    before = attempts(other)
    await until(lambda: attempts(other) >= before + 3)
    return index, leader, other


async def answered(coach: Coach, said: dict[str, Any]) -> None:
    await eventually(lambda: handled(coach, said))
    await drained(coach)


async def test_of_two_coach_processes_only_the_leader_follows_the_stream(url: str) -> None:
    async with fake_matterbridge() as bridge, two_coaches(url, bridge) as (coaches, _):
        assert all(isinstance(election(c).locks, AdvisoryLocks) for c in coaches)
        _, leader, other = await one_reads(coaches, bridge)
        assert bridge.streaming == 1
        assert len(bridge.skip_before) == 1  # the bridge was asked for one stream only
        assert (follower(leader).connections, follower(other).connections) == (1, 0)
        said = bridge.say(ANA, "/start")
        await answered(leader, said)
        [post] = bridge.posts()  # one answer, from the leader
        assert said_to("Ana", [post.text], ("Ana",))[0].startswith(GREETING)
        assert follower(other).handed == 0


async def test_when_the_leader_stops_the_other_follows_and_answers_what_came_meanwhile_once(
    url: str,
) -> None:
    async with fake_matterbridge() as bridge, two_coaches(url, bridge) as (coaches, stacks):
        index, leader, other = await one_reads(coaches, bridge)
        await answered(leader, bridge.say(ANA, "/start"))
        await stacks[index].aclose()  # the leading process stops
        meanwhile = bridge.say(BOB, "/start")
        took = await until(lambda: leads(other) and follower(other).connections == 1)
        assert took < 3.0
        await answered(other, meanwhile)
        texts = [p.text for p in bridge.posts()]
        assert len(texts) == 2  # Ana's greeting, then Bob's: none twice
        assert texts[0].startswith("Ana: ") and texts[1].startswith("Bob: ")
        assert bridge.streaming == 1
        assert len(bridge.skip_before) == 2  # one stream per leadership


async def test_a_leader_that_loses_its_database_connection_stops_following_at_once(
    url: str,
) -> None:
    observer = create_engine(url)
    try:
        async with fake_matterbridge() as bridge, two_coaches(url, bridge) as (coaches, _):
            _, leader, other = await one_reads(coaches, bridge)
            name = reader_name(bridge.base_url)
            [pid] = await holders(observer, name)
            async with observer.connect() as connection:
                await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            took = await until(lambda: follower(other).connections == 1, within=5.0)
            assert took < 3.0
            await until(lambda: not leads(leader) and bridge.streaming == 1)
            assert len(await holders(observer, name)) == 1
            said = bridge.say(ANA, "/start")
            await answered(other, said)
            assert len(bridge.posts()) == 1
            assert follower(leader).handed == 0
    finally:
        await observer.dispose()
