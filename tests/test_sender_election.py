"""Several coach processes on one PostgreSQL database: one sender is elected to send for all,
so the rate limits are kept once; it hears at once of rows another process writes, and
another sender takes over within seconds when it stops. Each message goes out once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest

from bot.app import stop_sender
from bot.delivery.limits import Limits, RateLimiter
from bot.delivery.sender import SENDER, OutboxSender
from bot.services.coach import utc_now
from bot.services.leader import Election
from bot.store.database import create_engine
from bot.store.delivery_queue import DeliveryQueue
from bot.store.nudge_batches import outbox_values, write_outbox
from bot.store.outbox import OutboundMessage, OutboxDraft
from bot.store.turn_rows import TurnRows
from bot.store.unit_of_work import Store
from tests.conftest import emptied

ENOUGH = 5.0  # seconds: far less than the senders' own look every 60 s


Arrived = list[tuple[str, str]]  # (process, text) of each message delivered


class Chats:
    """A test channel that records what arrives, and from which process."""

    def __init__(self, arrived: list[tuple[str, str]], process: str) -> None:
        self.arrived = arrived
        self.process = process

    def is_group(self, chat_id: str) -> bool:
        return False

    async def deliver(self, message: OutboundMessage) -> str | None:
        self.arrived.append((self.process, message.text))
        return str(len(self.arrived))


class Process:
    """One coach process's sender: its own engine, elected or not."""

    def __init__(self, url: str, name: str, arrived: list[tuple[str, str]]) -> None:
        self.name = name
        self.store = Store(create_engine(url))
        limiter = RateLimiter(Limits(), lambda: 1000.0)
        chats = {"election-test": Chats(arrived, name)}
        self.sender = OutboxSender(
            DeliveryQueue(self.store), chats, limiter, utc_now, idle_seconds=60
        )
        self.election = Election(
            Election.on(self.store.engine).locks, retry_seconds=0.1, check_seconds=0.2
        )
        self.task = asyncio.create_task(self.sender.run_elected(self.election))

    @property
    def leads(self) -> bool:
        return SENDER in self.election.leading

    async def stop(self) -> None:
        await stop_sender(self.sender, self.task)
        await self.store.close()


@contextlib.asynccontextmanager
async def processes(
    url: str, count: int
) -> AsyncIterator[tuple[list[Process], list[tuple[str, str]]]]:
    arrived: list[tuple[str, str]] = []
    started = [Process(url, f"p{n}", arrived) for n in range(count)]
    try:
        yield started, arrived
    finally:
        for process in started:
            if not process.task.done():
                await process.stop()


async def until(condition: Callable[[], bool], within: float = ENOUGH) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still not true after {within} s")
        await asyncio.sleep(0.01)


def draft(text: str, chat_id: str = "1001") -> OutboxDraft:
    return OutboxDraft(
        channel="election-test",
        chat_id=chat_id,
        text=text,
        language="en",
        dedupe_key=f"election:{text}",
        status="pending",
        not_before=utc_now() - timedelta(seconds=1),
        created_at=utc_now(),
    )


async def written(store: Store, *texts: str) -> None:
    """Messages a process's service writes (the flush announces them to the others)."""
    async with store.unit_of_work() as uow:
        for text in texts:
            await uow.outbox.add(draft(text).row())


@pytest.fixture
async def url(postgres_url: str) -> str:
    engine = create_engine(postgres_url)
    await emptied(engine)
    await engine.dispose()
    return postgres_url


async def test_of_three_processes_one_sends_what_any_of_them_writes_at_once(url: str) -> None:
    async with processes(url, 3) as (started, arrived):
        await until(lambda: sum(p.leads for p in started) == 1)
        leader = next(p for p in started if p.leads)
        others = [p for p in started if not p.leads]
        await until(lambda: all(p.election.attempts >= 3 for p in others))
        await written(others[0].store, "one", "two")
        await written(others[1].store, "three")
        await until(lambda: len(arrived) == 3)  # heard at once, not at the next look in 60 s
        assert sorted(text for _, text in arrived) == ["one", "three", "two"]
        assert {process for process, _ in arrived} == {leader.name}
        assert sum(p.leads for p in started) == 1


async def test_rows_written_in_one_statement_are_heard_at_once_too(url: str) -> None:
    """A batch of turns and the reminder sweep write their rows without the ORM."""
    async with processes(url, 2) as (started, arrived):
        await until(lambda: sum(p.leads for p in started) == 1)
        other = next(p for p in started if not p.leads)
        await until(lambda: other.election.attempts >= 3)
        async with other.store.unit_of_work() as uow:
            rows = TurnRows(uow)
            rows.send([draft("a turn's reply"), draft("to another chat", chat_id="1002")])
            await rows.flush()
        async with other.store.unit_of_work() as uow:
            await write_outbox(uow.session, [outbox_values(draft("a reminder", chat_id="1003"))])
        await until(lambda: len(arrived) == 3)  # heard at once, not at the next look in 60 s
        assert sorted(text for _, text in arrived) == [
            "a reminder",
            "a turn's reply",
            "to another chat",
        ]


async def test_when_the_sender_stops_another_takes_over_and_nothing_goes_twice(url: str) -> None:
    async with processes(url, 2) as (started, arrived):
        await until(lambda: sum(p.leads for p in started) == 1)
        leader, other = sorted(started, key=lambda p: not p.leads)
        await written(other.store, "before")
        await until(lambda: len(arrived) == 1)
        await leader.stop()
        await written(other.store, "meanwhile")
        await until(lambda: other.leads and len(arrived) == 2)
        assert [text for _, text in arrived] == ["before", "meanwhile"]


async def test_a_process_not_elected_stops_at_once(url: str) -> None:
    async with processes(url, 2) as (started, _):
        await until(lambda: sum(p.leads for p in started) == 1)
        other = next(p for p in started if not p.leads)
        async with asyncio.timeout(2.0):  # the sender's grace is 10 s: nothing to finish here
            await other.stop()
        assert other.task.done()
