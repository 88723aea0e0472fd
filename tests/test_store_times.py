"""Times keep their meaning in the database, whatever the engine and the time zone given."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.tables import Handoff, Learner
from bot.store.unit_of_work import Store


async def test_a_paris_time_comes_back_as_the_same_moment(engine: AsyncEngine) -> None:
    paris = datetime(2026, 11, 28, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    store = Store(engine)
    async with store.unit_of_work() as uow:
        learner = Learner(
            channel="web",
            chat_id="c1",
            user_id="c1",
            timezone="Europe/Paris",
            choices=[],
            created_at=now,
            last_seen_at=now,
            reviews=[],
        )
        uow.session.add(learner)
        await uow.session.flush()
        uow.session.add(
            Handoff(learner_id=learner.id, status="open", language="en", created_at=now, slot=paris)
        )
    async with store.unit_of_work() as uow:
        handoff = await uow.session.get(Handoff, 1)
        assert handoff is not None and handoff.slot == paris
        assert handoff.slot.tzinfo is not None


async def test_a_time_without_a_zone_is_refused(engine: AsyncEngine) -> None:
    store = Store(engine)
    with pytest.raises(Exception, match="naive datetime"):
        async with store.unit_of_work() as uow:
            uow.session.add(
                Learner(
                    channel="web",
                    chat_id="c2",
                    user_id="c2",
                    timezone="UTC",
                    choices=[],
                    created_at=datetime(2026, 1, 1),
                    last_seen_at=datetime(2026, 1, 1),
                    reviews=[],
                )
            )
