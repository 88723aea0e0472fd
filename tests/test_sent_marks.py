"""'Sent' marks are written together, never dropped, and all written when the sender stops."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.delivery.sent_marks import SentMarks
from bot.store.delivery_queue import DeliveryQueue, SentMark
from bot.store.tables import OutboxRow
from bot.store.unit_of_work import Store
from tests.telegram_learner import eventually

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class Queue:
    """The outbox's ``sent_many``, recording each statement; it fails while ``away``."""

    def __init__(self) -> None:
        self.statements: list[list[SentMark]] = []
        self.away = False

    async def sent_many(self, marks: list[SentMark]) -> None:
        await asyncio.sleep(0)
        if self.away:
            raise ConnectionError("database away")
        self.statements.append(marks)


def marks_for(queue: Queue, **options: Any) -> SentMarks:
    return SentMarks(cast(DeliveryQueue, queue), **options)


async def until(check: Callable[[], object]) -> None:
    async def holds() -> bool:
        return bool(check())

    await eventually(holds)


async def test_marks_that_come_together_are_written_in_one_statement() -> None:
    queue, woken = Queue(), []
    marks = marks_for(queue, within=0.05, on_written=lambda: woken.append(True))
    for message_id in range(10):
        marks.add(message_id, f"p{message_id}", AT)
    await until(lambda: queue.statements)
    assert [[m.id for m in s] for s in queue.statements] == [list(range(10))]
    assert queue.statements[0][3] == SentMark(3, "p3", AT)
    assert woken == [True]  # the sender looks for the chats' next messages


async def test_a_full_batch_is_written_at_once_and_the_rest_follows() -> None:
    queue = Queue()
    marks = marks_for(queue, most=4, within=60.0)
    for message_id in range(9):
        marks.add(message_id, None, AT)
    await until(lambda: len(queue.statements) == 2)
    assert [len(s) for s in queue.statements] == [4, 4]
    await marks.flush()  # the ninth would wait a minute for company: written now
    assert [m.id for s in queue.statements for m in s] == list(range(9))


async def test_a_mark_the_database_refused_is_kept_and_written_later() -> None:
    queue = Queue()
    queue.away = True
    marks = marks_for(queue, within=0.001, retry_seconds=0.01)
    marks.add(1, "p1", AT)
    marks.add(2, "p2", AT)
    await asyncio.sleep(0.05)
    assert queue.statements == []
    assert marks.waiting == 2
    queue.away = False
    await until(lambda: queue.statements)
    assert [m.id for m in queue.statements[0]] == [1, 2]
    assert marks.waiting == 0


async def test_flush_writes_what_waits_and_keeps_what_it_cannot() -> None:
    queue = Queue()
    marks = marks_for(queue, within=60.0)
    marks.add(1, None, AT)
    await marks.flush()
    assert [m.id for s in queue.statements for m in s] == [1]
    queue.away = True
    marks.add(2, None, AT)
    await marks.flush()  # returns: the sender's claim on it runs out instead
    assert marks.waiting == 1


async def test_the_outbox_marks_each_message_with_its_own_id_and_time(
    engine: AsyncEngine,
) -> None:
    """Through the real outbox: one statement, each row its own platform id and time."""
    store = Store(engine)
    async with store.unit_of_work() as uow:
        for n in range(70):
            uow.session.add(
                OutboxRow(
                    channel="telegram",
                    chat_id=str(n),
                    text="hello",
                    buttons=[],
                    language="en",
                    dedupe_key=f"k{n}",
                    status="sending",
                    not_before=AT,
                    created_at=AT,
                    claimed_until=AT,
                )
            )
    async with store.reading() as uow:
        ids = list(await uow.session.scalars(select(OutboxRow.id).order_by(OutboxRow.id)))
    marks = SentMarks(DeliveryQueue(store), within=0.001)
    for n, message_id in enumerate(ids):
        marks.add(message_id, f"p{n}", AT + timedelta(seconds=n))
    await marks.flush()
    async with store.reading() as uow:
        rows = list(await uow.session.scalars(select(OutboxRow).order_by(OutboxRow.id)))
    assert [(r.status, r.platform_message_id, r.claimed_until) for r in rows] == [
        ("sent", f"p{n}", None) for n in range(70)
    ]
    assert [r.sent_at and r.sent_at.replace(tzinfo=UTC) for r in rows] == [
        AT + timedelta(seconds=n) for n in range(70)
    ]


async def test_a_mark_never_moves_a_message_back(engine: AsyncEngine) -> None:
    """WhatsApp may report 'delivered' as soon as the id is stored: a mark written again
    (its first writing's answer was lost) leaves it delivered."""
    store = Store(engine)
    async with store.unit_of_work() as uow:
        uow.session.add(
            OutboxRow(
                channel="whatsapp",
                chat_id="33600000000",
                text="hello",
                buttons=[],
                language="en",
                dedupe_key="k",
                status="sending",
                not_before=AT,
                created_at=AT,
            )
        )
    async with store.reading() as uow:
        message_id = await uow.session.scalar(select(OutboxRow.id))
    assert message_id is not None
    queue = DeliveryQueue(store)
    await queue.sent_many([SentMark(message_id, "wamid.1", AT)])
    async with store.unit_of_work() as uow:
        row = await uow.session.get(OutboxRow, message_id)
        assert row is not None and row.status == "sent"
        row.status = "delivered"
    await queue.sent_many([SentMark(message_id, "wamid.1", AT)])
    async with store.reading() as uow:
        assert await uow.session.scalar(select(OutboxRow.status)) == "delivered"
