"""Stopping the sender: it ends when asked or cancelled, and what it could not send stays queued."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.delivery.limits import Limits, RateLimiter
from bot.delivery.sender import OutboxSender
from bot.services.coach import utc_now
from bot.store.delivery_queue import DeliveryQueue
from bot.store.outbox import OutboundMessage
from bot.store.sealed import use_data_keys
from bot.store.tables import OutboxRow
from bot.store.unit_of_work import Store
from tests.conftest import TEST_DATA_KEY
from tests.telegram_learner import VirtualClock

ENOUGH = 10.0  # seconds: only a sender that never ends takes this long


class WatchedQueue(DeliveryQueue):
    """The outbox, telling the test when the sender has looked in it."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.looked = asyncio.Event()

    async def claim(
        self, channels: list[str], now: datetime, limit: int, lease: timedelta
    ) -> list[OutboundMessage]:
        claimed = await super().claim(channels, now, limit, lease)
        self.looked.set()
        return claimed


class Chat:
    """A private chat on a test channel that records what arrives."""

    def __init__(self) -> None:
        self.arrived: list[str] = []

    def is_group(self, chat_id: str) -> bool:
        return False

    async def deliver(self, message: OutboundMessage) -> str | None:
        self.arrived.append(message.text)
        return str(len(self.arrived))


async def queued(store: Store, *texts: str) -> None:
    async with store.unit_of_work() as uow:
        for n, text in enumerate(texts):
            uow.session.add(
                OutboxRow(
                    channel="test",
                    chat_id="1001",
                    text=text,
                    buttons=[],
                    language="en",
                    dedupe_key=f"stop-test-{n}",
                    not_before=utc_now() - timedelta(seconds=1),
                    created_at=utc_now(),
                )
            )


async def test_a_sender_cancelled_as_it_is_woken_ends(engine: AsyncEngine) -> None:
    """On Python 3.11 ``asyncio.wait_for`` returned normally when the cancellation came as
    the event it waited for was set; the sender went on looping and a test never ended."""
    queue = WatchedQueue(Store(engine))
    limiter = RateLimiter(Limits(), lambda: 1000.0)
    sender = OutboxSender(queue, {"test": Chat()}, limiter, utc_now, idle_seconds=60)
    running = asyncio.create_task(sender.run())
    await asyncio.wait_for(queue.looked.wait(), ENOUGH)

    sender.wake()  # a new message, just as the coach stops
    running.cancel()
    done, _ = await asyncio.wait([running], timeout=ENOUGH)

    assert running in done and running.cancelled()


async def test_a_sender_stopped_while_a_chat_waits_for_its_limit_leaves_the_message_queued(
    engine: AsyncEngine,
) -> None:
    store = Store(engine)
    await queued(store, "one", "two")
    waiting = asyncio.Event()

    async def no_time_passes(seconds: float) -> None:
        """The chat's limit never frees: only a stop ends the wait."""
        waiting.set()
        await asyncio.sleep(0)

    limits = Limits(private_per_second=1.0, private_burst=1)
    limiter = RateLimiter(limits, lambda: 1000.0, no_time_passes)
    chat = Chat()
    sender = OutboxSender(DeliveryQueue(store), {"test": chat}, limiter, utc_now)
    running = asyncio.create_task(sender.run())
    await asyncio.wait_for(waiting.wait(), ENOUGH)

    sender.stop()
    done, _ = await asyncio.wait([running], timeout=ENOUGH)

    assert running in done and running.exception() is None
    assert chat.arrived == ["one"]
    async with store.unit_of_work() as uow:
        rows = (await uow.session.scalars(select(OutboxRow).order_by(OutboxRow.id))).all()
        assert [(r.status, r.attempts) for r in rows] == [("sent", 0), ("pending", 0)]


async def test_a_message_whose_turn_comes_after_its_claim_is_left_for_the_next_claim(
    engine: AsyncEngine,
) -> None:
    """A message that waited for its limit past most of its claim's lease may soon be given
    to another send by the outbox: it is not sent, and stays claimed until the lease ends."""
    store = Store(engine)
    await queued(store, "one", "two")
    clock = VirtualClock(1000.0)
    limiter = RateLimiter(Limits(private_per_second=1.0, private_burst=1), clock, clock.sleep)
    chat = Chat()
    lease = timedelta(seconds=1)  # the second message's turn comes a second after the first
    sender = OutboxSender(DeliveryQueue(store), {"test": chat}, limiter, utc_now, lease=lease)

    assert await asyncio.wait_for(sender.drain_once(), ENOUGH) == 2

    assert chat.arrived == ["one"]
    async with store.unit_of_work() as uow:
        rows = (await uow.session.scalars(select(OutboxRow).order_by(OutboxRow.id))).all()
        assert [r.status for r in rows] == ["sent", "sending"]  # the outbox sweep frees it


async def test_a_message_no_key_opens_is_not_sent(engine: AsyncEngine) -> None:
    """Written while the coach had another key (lost since): its placeholder never reaches
    the learner; the message is marked failed and the chat's next one goes."""
    store = Store(engine)
    use_data_keys([Fernet.generate_key().decode()])
    try:
        await queued(store, "sealed with the lost key")
    finally:
        use_data_keys([TEST_DATA_KEY])
    async with store.unit_of_work() as uow:
        uow.session.add(
            OutboxRow(
                channel="test",
                chat_id="1001",
                text="after",
                buttons=[],
                language="en",
                dedupe_key="stop-test-after",
                not_before=utc_now() - timedelta(seconds=1),
                created_at=utc_now(),
            )
        )
    chat = Chat()
    limiter = RateLimiter(Limits(), lambda: 1000.0)
    sender = OutboxSender(DeliveryQueue(store), {"test": chat}, limiter, utc_now)

    await asyncio.wait_for(sender.drain_once(), ENOUGH)

    assert chat.arrived == ["after"]
    async with store.unit_of_work() as uow:
        rows = (await uow.session.scalars(select(OutboxRow).order_by(OutboxRow.id))).all()
        assert [r.status for r in rows] == ["failed", "sent"]
