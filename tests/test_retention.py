"""The retention sweep on a virtual clock: each kind of data is gone on its day, not before."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.registry import known_channels
from bot.core.events import Inbound, InboundKind, Sender
from bot.services.coach import CoachService
from bot.services.retention import Retention, RetentionPolicy
from bot.store.tables import Handoff, HandoffMessage, InboundKey, Learner, OutboxRow
from tests.builders import NOW, coach_service

AMINA = Sender("telegram", "555001", "555001", first_name="Amina", language_hint="en")
TELEGRAM = known_channels()["telegram"]
DAY = timedelta(days=1)


async def talks(service: CoachService, key: str, **fields: object) -> None:
    kind = InboundKind.BUTTON if "payload" in fields else InboundKind.COMMAND
    await service.handle(Inbound(AMINA, kind, NOW, key, **fields), TELEGRAM)  # type: ignore[arg-type]


async def a_learner_helped_once(service: CoachService) -> int:
    """Amina starts, picks English; a request of hers closes at NOW with words in it."""
    await talks(service, "tg:1", text="/start", command="start")
    await talks(service, "tg:2", payload="lang:en")
    async with service.store.unit_of_work() as uow:
        learner = await uow.learners.find(AMINA)
        assert learner is not None
        handoff = Handoff(
            learner_id=learner.id,
            status="closed",
            language="en",
            topic_text="my residence permit",
            note="status: refused",
            comment="thank you",
            created_at=NOW,
            closed_at=NOW,
        )
        uow.session.add(handoff)
        await uow.session.flush()
        uow.session.add(
            HandoffMessage(
                handoff_id=handoff.id, key="m1", author="learner", text="12 rue X", created_at=NOW
            )
        )
        # Everything went out, as the sender would have marked it.
        await uow.session.execute(update(OutboxRow).values(status="sent", sent_at=NOW))
        return handoff.id


async def counts(service: CoachService, handoff_id: int) -> dict[str, object]:
    async with service.store.unit_of_work() as uow:
        session = uow.session
        handoff = await session.get(Handoff, handoff_id, populate_existing=True)
        assert handoff is not None
        texts = list(await session.scalars(select(OutboxRow.text).order_by(OutboxRow.id)))
        return {
            "keys": await session.scalar(select(func.count()).select_from(InboundKey)),
            "outbox rows": len(texts),
            "outbox words": sum(1 for t in texts if t),
            "request words": (handoff.topic_text, handoff.note, handoff.comment),
            "relayed": await session.scalar(select(func.count()).select_from(HandoffMessage)),
            "learner": await session.scalar(
                select(Learner.chat_id).where(Learner.id == handoff.learner_id)
            ),
        }


async def test_each_kind_goes_on_its_day_and_not_before(engine: AsyncEngine) -> None:
    service = coach_service(engine)
    handoff_id = await a_learner_helped_once(service)
    retention = Retention(service.store, service.catalogs, known_channels(), RetentionPolicy())
    start = await counts(service, handoff_id)
    rows = start["outbox rows"]
    assert start["keys"] == 2 and start["outbox words"] == rows and start["relayed"] == 1

    await retention.sweep(NOW + 7 * DAY - timedelta(seconds=1))
    assert await counts(service, handoff_id) == start

    await retention.sweep(NOW + 7 * DAY)
    week = await counts(service, handoff_id)
    assert week["keys"] == 0
    assert (week["outbox rows"], week["outbox words"]) == (rows, 0)  # ids and times stay
    assert week["request words"] == start["request words"] and week["relayed"] == 1

    await retention.sweep(NOW + 30 * DAY - timedelta(seconds=1))
    assert (await counts(service, handoff_id))["relayed"] == 1

    await retention.sweep(NOW + 30 * DAY)
    month = await counts(service, handoff_id)
    assert month["request words"] == (None, None, None) and month["relayed"] == 0
    assert month["learner"] == "555001"

    await retention.sweep(NOW + 365 * DAY - timedelta(seconds=1))
    assert (await counts(service, handoff_id))["learner"] == "555001"

    await retention.sweep(NOW + 365 * DAY)
    year = await counts(service, handoff_id)
    assert str(year["learner"]).startswith("erased:")
    async with service.store.unit_of_work() as uow:
        goodbye = list(await uow.session.scalars(select(OutboxRow).where(OutboxRow.text != "")))
    assert [(row.chat_id, row.status) for row in goodbye] == [("555001", "pending")]
    assert goodbye[0].text.startswith("You have not written to me for a year")

    async with service.store.unit_of_work() as uow:  # the sender delivers it
        await uow.session.execute(update(OutboxRow).values(status="sent"))
    await retention.sweep(NOW + 365 * DAY + timedelta(minutes=1))
    async with service.store.unit_of_work() as uow:
        chats = set(await uow.session.scalars(select(OutboxRow.chat_id)))
        names = set(await uow.session.scalars(select(Learner.first_name)))
    assert "555001" not in chats and names == {None}


async def test_the_days_are_settings(engine: AsyncEngine) -> None:
    service = coach_service(engine)
    handoff_id = await a_learner_helped_once(service)
    policy = RetentionPolicy(handoff_days=2, inbound_key_days=1, outbox_text_days=1)
    retention = Retention(service.store, service.catalogs, known_channels(), policy)
    await retention.sweep(NOW + 2 * DAY)
    after = await counts(service, handoff_id)
    assert after["keys"] == 0 and after["outbox words"] == 0 and after["relayed"] == 0


async def test_a_silent_web_chat_learner_is_erased_without_a_message_nobody_would_read(
    engine: AsyncEngine,
) -> None:
    service = coach_service(engine)
    web = known_channels()["web"]
    someone = Sender("web", "c0ffee", "c0ffee", language_hint="en")
    await service.handle(
        Inbound(someone, InboundKind.COMMAND, NOW, "w1", text="/start", command="start"), web
    )
    retention = Retention(service.store, service.catalogs, known_channels(), RetentionPolicy())
    assert await retention.sweep(NOW + 364 * DAY) >= 0
    async with service.store.unit_of_work() as uow:
        assert await uow.session.scalar(select(Learner.chat_id)) == "c0ffee"
    await retention.sweep(NOW + 365 * DAY)
    async with service.store.unit_of_work() as uow:
        assert str(await uow.session.scalar(select(Learner.chat_id))).startswith("erased:")
        assert list(await uow.session.scalars(select(OutboxRow.chat_id))) == []


async def test_a_message_held_for_a_learner_who_never_writes_again_is_given_up_in_a_week(
    engine: AsyncEngine,
) -> None:
    service = coach_service(engine)
    await a_learner_helped_once(service)
    async with service.store.unit_of_work() as uow:  # WhatsApp's window closed on it
        first = await uow.session.scalar(select(OutboxRow).order_by(OutboxRow.id).limit(1))
        assert first is not None
        first.status, held = "held", first.id
    retention = Retention(service.store, service.catalogs, known_channels(), RetentionPolicy())
    await retention.sweep(NOW + 7 * DAY - timedelta(seconds=1))
    async with service.store.unit_of_work() as uow:
        row = await uow.session.get(OutboxRow, held)
        assert row is not None and row.status == "held" and row.text
    await retention.sweep(NOW + 7 * DAY)
    async with service.store.unit_of_work() as uow:
        row = await uow.session.get(OutboxRow, held, populate_existing=True)
        assert row is not None and (row.status, row.text) == ("failed", "")
        assert row.last_error == "held too long: the learner did not write again"
