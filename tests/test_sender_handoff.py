"""New replies go to this process's sender claimed as they are written: it sends them without
claiming them from the outbox again, after what the chat still has waiting, and gives them
back to the outbox should it have stopped sending meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.channel import Buttons, Capabilities
from bot.delivery.errors import RetryAfter
from bot.delivery.limits import Limits, RateLimiter
from bot.delivery.sender import OutboxSender
from bot.services.coach import utc_now
from bot.store.delivery_queue import DeliveryQueue
from bot.store.outbox import OutboundMessage
from bot.store.tables import OutboxRow
from bot.store.unit_of_work import Store
from tests.builders import NOW, coach_service, command
from tests.test_sender_election import until
from tests.test_sender_stop import ENOUGH, Chat, queued

CHANNEL = Capabilities("test", Buttons.INLINE, pull=False)
LEASE = timedelta(minutes=2)


class Taker:
    """This process's sender as the service sees it, keeping what it is handed."""

    lease = LEASE

    def __init__(self, channels: frozenset[str] = frozenset({"test"})) -> None:
        self.channels = channels
        self.taken: list[list[OutboundMessage]] = []

    def claimable(self) -> frozenset[str]:
        return self.channels

    async def take(self, messages: list[OutboundMessage]) -> None:
        self.taken.append(messages)


async def outbox(engine: AsyncEngine) -> list[OutboxRow]:
    async with Store(engine).unit_of_work() as uow:
        return list(await uow.session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


async def test_new_replies_are_handed_to_the_sender_claimed(engine: AsyncEngine) -> None:
    service = coach_service(engine)
    taker, woken = Taker(), []
    service.sender, service.on_outbox = taker, lambda: woken.append(True)

    replies = await service.handle(command("start"), CHANNEL)

    assert replies and taker.taken == [list(replies)]
    rows = await outbox(engine)
    assert [row.id for row in rows] == [reply.id for reply in replies]
    assert {(row.status, row.claimed_until) for row in rows} == {("sending", NOW + LEASE)}
    assert woken == []  # nothing for the sender to look for
    assert await DeliveryQueue(Store(engine)).claim(["test"], NOW, 100, LEASE) == []


async def test_a_chat_with_a_message_still_waiting_gets_its_new_ones_behind_it(
    engine: AsyncEngine,
) -> None:
    """The outbox gives the new replies once the older message went (a reminder held
    until the morning, say): claimed now, they would overtake it."""
    service = coach_service(engine)
    taker, woken = Taker(), []
    service.sender, service.on_outbox = taker, lambda: woken.append(True)
    first = await service.handle(command("start"), CHANNEL)
    async with Store(engine).unit_of_work() as uow:
        await uow.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == first[0].id)
            .values(status="pending", not_before=NOW + timedelta(hours=8), claimed_until=None)
        )

    replies = await service.handle(command("help"), CHANNEL)

    assert replies and len(taker.taken) == 1
    later = [row for row in await outbox(engine) if row.id in {r.id for r in replies}]
    assert {(row.status, row.claimed_until) for row in later} == {("pending", None)}
    assert woken == [True]


@pytest.mark.parametrize("channels", [frozenset(), frozenset({"telegram"})])
async def test_nothing_is_claimed_for_a_sender_that_does_not_send_them(
    engine: AsyncEngine, channels: frozenset[str]
) -> None:
    """Another process sends now (an empty ``claimable``), or this one sends other channels."""
    service = coach_service(engine)
    taker, woken = Taker(channels), []
    service.sender, service.on_outbox = taker, lambda: woken.append(True)

    replies = await service.handle(command("start"), CHANNEL)

    assert replies and taker.taken == []
    assert {row.status for row in await outbox(engine)} == {"pending"}
    assert woken == [True]


# The sender's side.


class SlowChat(Chat):
    """A chat whose message "one" waits for ``go``, then is sent or meets flood control."""

    def __init__(self, flood: bool) -> None:
        super().__init__()
        self.go = asyncio.Event()
        self.flood = flood

    async def deliver(self, message: OutboundMessage) -> str | None:
        if message.text == "one":
            await self.go.wait()
            if self.flood:
                raise RetryAfter(30)
        return await super().deliver(message)


async def claimed(store: Store, *texts: str) -> list[OutboundMessage]:
    """Messages written claimed, as the service writes them for this process's sender."""
    await queued(store, *texts)
    async with store.unit_of_work() as uow:
        rows = list(await uow.session.scalars(select(OutboxRow).order_by(OutboxRow.id)))
        for row in rows:
            row.status, row.claimed_until = "sending", utc_now() + LEASE
        return [OutboundMessage.of(row) for row in rows]


@pytest.fixture
async def store(engine: AsyncEngine) -> AsyncIterator[Store]:
    yield Store(engine)


async def running(sender: OutboxSender) -> asyncio.Task[None]:
    task = asyncio.create_task(sender.run())
    await until(lambda: bool(sender.claimable()))
    return task


def sender_for(store: Store, chat: Chat) -> OutboxSender:
    limiter = RateLimiter(Limits(), lambda: 1000.0)
    return OutboxSender(DeliveryQueue(store), {"test": chat}, limiter, utc_now, idle_seconds=60)


async def statuses(store: Store) -> list[str]:
    return [row.status for row in await outbox(store.engine)]


async def until_statuses(store: Store, expected: list[str]) -> None:
    deadline = asyncio.get_running_loop().time() + ENOUGH
    while (seen := await statuses(store)) != expected:
        assert asyncio.get_running_loop().time() < deadline, seen
        await asyncio.sleep(0.02)


async def test_what_the_sender_is_handed_goes_out_and_is_marked_sent(store: Store) -> None:
    chat = Chat()
    sender = sender_for(store, chat)
    task = await running(sender)
    assert sender.claimable() == {"test"}

    await sender.take(await claimed(store, "one", "two"))
    await until_statuses(store, ["sent", "sent"])

    assert chat.arrived == ["one", "two"]
    sender.stop()
    await asyncio.wait_for(task, ENOUGH)


async def test_a_sender_not_running_gives_what_it_is_handed_back(store: Store) -> None:
    chat = Chat()
    sender = sender_for(store, chat)
    assert sender.claimable() == frozenset()

    await sender.take(await claimed(store, "one"))

    assert await statuses(store) == ["pending"]
    assert chat.arrived == []


@pytest.mark.parametrize("flood", [False, True])
async def test_messages_handed_for_a_chat_still_sending_wait_for_its_earlier_ones(
    store: Store, flood: bool
) -> None:
    """Two transactions claimed for one chat (a group's learners write together): the
    second's messages go after the first's, and not before them should those have to wait."""
    chat = SlowChat(flood)
    sender = sender_for(store, chat)
    task = await running(sender)
    first, second = await claimed(store, "one", "two")

    await sender.take([first])
    await sender.take([second])
    await asyncio.sleep(0.05)
    assert chat.arrived == []  # the first waits: the second does not overtake it
    chat.go.set()

    if flood:
        await until_statuses(store, ["pending", "pending"])
        assert chat.arrived == []
    else:
        await until_statuses(store, ["sent", "sent"])
        assert chat.arrived == ["one", "two"]
    sender.stop()
    await asyncio.wait_for(task, ENOUGH)
