"""One leader at a time for a name: on PostgreSQL an advisory lock held on one connection, taken
over by another process within seconds when the leader stops, dies or loses its connection;
on SQLite every process leads."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.services.leader import ANSWER_SECONDS, Election, LeaderSettings
from bot.store.database import create_engine
from bot.store.leader import AdvisoryLocks, EveryoneLeads, lock_key
from tests.stalled_proxy import stalled_proxy

NAME = "matterbridge-reader"
ROOT = Path(__file__).parent.parent
QUICK = LeaderSettings(retry_seconds=0.1, check_seconds=0.2)


async def until(condition: Callable[[], bool], within: float = 5.0) -> float:
    """Wait until ``condition`` holds; the seconds it took."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    while not condition():
        if loop.time() - began > within:
            raise AssertionError(f"still not true after {within} s")
        await asyncio.sleep(0.01)
    return loop.time() - began


@dataclass
class Candidate:
    """One coach process's election, running ``work`` while it leads."""

    election: Election
    name: str = NAME
    started: int = 0  # times the work began
    running: bool = False
    task: asyncio.Task[None] | None = None
    overlaps: list[str] = field(default_factory=list)

    @property
    def leads(self) -> bool:
        return self.name in self.election.leading and self.running

    async def work(self) -> None:
        self.started += 1
        self.running = True
        try:
            await asyncio.Event().wait()
        finally:
            self.running = False

    def start(self) -> None:
        self.task = asyncio.create_task(self.election.run_while_leader(self.name, self.work))

    async def stop(self) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.wait({self.task}, timeout=15)
        assert self.task.done()


@contextlib.asynccontextmanager
async def candidates(url: str, count: int, name: str = NAME) -> AsyncIterator[list[Candidate]]:
    """``count`` elections, each on its own engine as separate processes have."""
    engines = [create_engine(url) for _ in range(count)]
    running = [Candidate(Election.on(engine, QUICK), name) for engine in engines]
    try:
        for candidate in running:
            candidate.start()
        yield running
    finally:
        for candidate in running:
            if candidate.task is not None and not candidate.task.done():
                await candidate.stop()
        for engine in engines:
            await engine.dispose()


def leaders(running: list[Candidate]) -> list[Candidate]:
    return [candidate for candidate in running if candidate.leads]


async def holders(engine: AsyncEngine, name: str = NAME) -> list[int]:
    """The server processes holding the advisory lock for ``name`` (a bigint key is kept as
    two 32-bit halves)."""
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


@pytest.fixture
async def observer(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(postgres_url)
    yield engine
    await engine.dispose()


async def test_of_two_candidates_for_one_name_exactly_one_leads(
    postgres_url: str, observer: AsyncEngine
) -> None:
    async with candidates(postgres_url, 2) as running:
        await until(lambda: len(leaders(running)) == 1)
        follower = next(c for c in running if not c.leads)
        before = follower.election.attempts
        await until(lambda: follower.election.attempts >= before + 5)  # it keeps asking
        assert len(leaders(running)) == 1
        assert [c.started for c in running if c is not follower] == [1]
        assert follower.started == 0
        assert len(await holders(observer)) == 1


async def test_different_names_have_their_own_leaders(postgres_url: str) -> None:
    async with (
        candidates(postgres_url, 1, "matterbridge-reader") as readers,
        candidates(postgres_url, 1, "matterbridge-sender") as senders,
    ):
        await until(lambda: readers[0].leads and senders[0].leads)


async def test_when_the_leader_stops_the_other_takes_over_and_the_lock_is_freed(
    postgres_url: str, observer: AsyncEngine
) -> None:
    async with candidates(postgres_url, 2) as running:
        await until(lambda: len(leaders(running)) == 1)
        first = leaders(running)[0]
        other = next(c for c in running if c is not first)
        await first.stop()
        assert not first.running
        took = await until(lambda: other.leads, within=3.0)
        assert took < 1.0  # about one retry interval
        assert len(await holders(observer)) == 1  # the other's: the first let go of it
        assert first.election.leading == set()


async def test_when_the_leaders_connection_is_killed_its_work_stops_and_the_other_takes_over(
    postgres_url: str, observer: AsyncEngine
) -> None:
    async with candidates(postgres_url, 2) as running:
        await until(lambda: len(leaders(running)) == 1)
        first = leaders(running)[0]
        other = next(c for c in running if c is not first)
        [pid] = await holders(observer)
        async with observer.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await until(lambda: not first.running, within=3.0)  # within a check or two
        await until(lambda: other.leads, within=3.0)
        assert len(leaders(running)) == 1
        assert (await holders(observer)) != [pid]
        # The old leader asks again, and is told another leads.
        before = first.election.attempts
        await until(lambda: first.election.attempts > before)
        assert not first.leads


async def test_a_leader_whose_database_stops_answering_stops_its_work_at_once(
    postgres_url: str,
) -> None:
    async with stalled_proxy(postgres_url) as (proxy, through):
        frozen = create_engine(through, timeout=1.0)
        first = Candidate(Election.on(frozen, QUICK))
        first.start()
        try:
            await until(lambda: first.leads)
            async with candidates(postgres_url, 1) as [other]:
                await until(lambda: other.election.attempts >= 2)
                proxy.freeze()  # the leader's network: open, and silent
                stopped = await until(lambda: not first.running, within=5.0)
                assert stopped < ANSWER_SECONDS + 1.0  # a check, and its answer's bound
                # The server still holds the silent session, and with it the lock: nobody
                # else leads until that session ends (TCP keepalives end it on a real network).
                before = other.election.attempts
                await until(lambda: other.election.attempts >= before + 2)
                assert not other.leads
                await proxy.close()  # the silent connection is cut
                await until(lambda: other.leads, within=3.0)
                assert not first.leads
        finally:
            await first.stop()
            await frozen.dispose()


LEADER_SCRIPT = """
import asyncio, sys
from bot.services.leader import ANSWER_SECONDS, Election, LeaderSettings
from bot.store.database import create_engine

async def main():
    election = Election.on(create_engine(sys.argv[1]), LeaderSettings(retry_seconds=0.1))
    async def work():
        print("leading", flush=True)
        await asyncio.Event().wait()
    await election.run_while_leader(sys.argv[2], work)

asyncio.run(main())
"""


async def test_when_the_leading_process_is_killed_another_takes_over_within_seconds(
    postgres_url: str,
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        LEADER_SCRIPT,
        postgres_url,
        NAME,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        assert line.strip() == b"leading"
        async with candidates(postgres_url, 1) as [other]:
            await until(lambda: other.election.attempts >= 3)
            assert not other.leads
            process.kill()  # no unlock: the server frees the lock when the session ends
            await asyncio.wait_for(process.wait(), 10)
            await until(lambda: other.leads, within=5.0)
    finally:
        if process.returncode is None:
            process.kill()
            await asyncio.wait_for(process.wait(), 10)


async def test_work_that_fails_gives_leadership_up_and_it_is_asked_for_again(
    postgres_url: str, observer: AsyncEngine
) -> None:
    engine = create_engine(postgres_url)
    election = Election.on(engine, QUICK)
    tries: list[int] = []

    async def failing() -> None:
        tries.append(len(await holders(observer)))
        if len(tries) < 3:
            raise RuntimeError("the work broke")

    try:
        await asyncio.wait_for(election.run_while_leader(NAME, failing), 10)
    finally:
        await engine.dispose()
    assert tries == [1, 1, 1]  # each try led, holding the lock
    assert await holders(observer) == []  # given up when the work was done


async def test_an_unreachable_database_is_asked_again_without_anyone_leading() -> None:
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none", timeout=0.5)
    election = Election.on(engine, QUICK)
    started: list[int] = []

    async def work() -> None:
        started.append(1)

    task = asyncio.create_task(election.run_while_leader(NAME, work))
    try:
        await until(lambda: election.attempts >= 2)
        assert not started and election.leading == set()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await engine.dispose()


async def test_on_sqlite_every_process_leads(tmp_path: Path) -> None:
    engines = [create_engine(f"sqlite+aiosqlite:///{tmp_path}/coach.db") for _ in range(2)]
    try:
        running = [Candidate(Election.on(engine, QUICK)) for engine in engines]
        assert all(isinstance(c.election.locks, EveryoneLeads) for c in running)
        for candidate in running:
            candidate.start()
        await until(lambda: all(c.leads for c in running))
        for candidate in running:
            await candidate.stop()
        assert not any(c.running for c in running)
    finally:
        for engine in engines:
            await engine.dispose()


def test_the_lock_key_is_a_bigint_fixed_by_the_name() -> None:
    assert lock_key(NAME) == lock_key(NAME)
    assert lock_key(NAME) != lock_key("matterbridge-sender")
    assert -(2**63) <= lock_key(NAME) < 2**63


async def test_the_settings_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COACH_LEADER_RETRY_SECONDS", "0.5")
    monkeypatch.setenv("COACH_LEADER_CHECK_SECONDS", "2")
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    election = Election.on(engine)
    await engine.dispose()
    assert (election.retry_seconds, election.check_seconds) == (0.5, 2.0)
    assert isinstance(election.locks, AdvisoryLocks)
