"""Coordinators see how requests for a person went: per day, times to claim and to close,
outcomes and ratings, by language and place; small groups are not shown."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Coach, build
from bot.services.figures import PREVIEW_OPENED
from bot.services.handoff_figures import handoff_figures, handoff_records, times
from bot.store.tables import Handoff, Learner
from bot.store.unit_of_work import Store
from tests.conftest import settings_for

DAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# Minutes to claim, then to close, of the French requests in Paris (all closed, rated).
PARIS = [(2, 10), (4, 20), (6, 30), (8, 40), (10, 50), (12, 60)]


@pytest.fixture
async def coach(engine: AsyncEngine, database_url: str) -> AsyncIterator[Coach]:
    built = build(settings_for(database_url, trainer_token="s3cret"))
    yield built
    await built.store.close()


async def learner(store: Store, number: int, preview: bool = False) -> int:
    async with store.unit_of_work() as uow:
        row = Learner(
            channel="telegram",
            chat_id=str(number),
            user_id=str(number),
            status="active",
            timezone="Europe/Paris",
            choices=[],
            reviews=[],
            created_at=DAY,
            last_seen_at=DAY,
        )
        uow.session.add(row)
        await uow.session.flush()
        if preview:
            await uow.record(row.id, PREVIEW_OPENED, {"lesson": "x"}, DAY)
        return row.id


async def request(
    store: Store,
    learner_id: int,
    *,
    day: int = 0,
    language: str = "fr",
    place: str | None = "paris",
    claim: int | None = None,
    close: int | None = None,
    outcome: str | None = None,
    rating: int | None = None,
) -> None:
    opened = DAY + timedelta(days=day)
    async with store.unit_of_work() as uow:
        uow.session.add(
            Handoff(
                learner_id=learner_id,
                status="closed" if close is not None else "claimed" if claim else "open",
                language=language,
                place=place,
                created_at=opened - timedelta(minutes=3),  # the minutes of the intake
                opened_at=opened,
                claimed_at=opened + timedelta(minutes=claim) if claim is not None else None,
                closed_at=opened + timedelta(minutes=close) if close is not None else None,
                outcome=outcome,
                rating=rating,
            )
        )


async def cohort(store: Store) -> None:
    number = 0
    for claim, close in PARIS:
        number += 1
        await request(
            store,
            await learner(store, number),
            claim=claim,
            close=close,
            outcome="solved",
            rating=5,
        )
    for day in (1, 1):  # two Arabic requests in Lyon the next day, one still open
        number += 1
        await request(store, await learner(store, number), day=day, language="ar", place="lyon")
    preview = await learner(store, 99, preview=True)
    await request(store, preview, claim=1, close=2, outcome="solved", rating=1)


def percentile_90(values: list[float]) -> float:
    """Worked out by hand: linear interpolation between the closest ranks."""
    ordered = sorted(values)
    rank = 0.9 * (len(ordered) - 1)
    low = int(rank)
    return ordered[low] + (ordered[low + 1] - ordered[low]) * (rank - low)


async def test_requests_times_outcomes_and_ratings(coach: Coach) -> None:
    await cohort(coach.store)
    figures = handoff_figures(await handoff_records(coach.store))
    assert figures.per_day == (("2026-03-02", 6), ("2026-03-03", 2))
    claims = [float(claim) for claim, _ in PARIS]
    assert figures.overall.requests == 8
    assert figures.overall.to_claim.median == 7.0
    assert figures.overall.to_claim.p90 == pytest.approx(percentile_90(claims))
    assert figures.overall.to_close.median == 35.0
    assert figures.outcomes == (("solved", 6),) and figures.ratings == ((5, 6),)
    arabic = next(group for group in figures.by_language if group.name == "ar")
    assert arabic.requests == 2 and arabic.to_claim.median is None  # fewer than five
    only_french = handoff_figures(await handoff_records(coach.store, language="fr"))
    assert only_french.overall.requests == 6
    later = await handoff_records(coach.store, since=DAY + timedelta(hours=12))
    assert len(later) == 2
    assert times([60.0] * 4).median is None


async def test_the_page_and_its_files_show_small_groups_as_fewer_than_five(
    coach: Coach,
) -> None:
    await cohort(coach.store)
    async with TestClient(TestServer(coach.web)) as client:
        await client.post("/trainer/sign-in", data={"token": "s3cret"})
        page = await (await client.get("/trainer/handoffs")).text()
        assert "Requests per day" in page and "90th percentile" in page
        assert '<option value="ar" dir="rtl">العربية</option>' in page

        async def table(name: str, **query: str) -> list[list[str]]:
            response = await client.get(f"/trainer/handoffs/{name}.csv", params=query)
            assert response.status == 200
            return list(csv.reader(io.StringIO(await response.text())))

        assert await table("days") == [
            ["day", "requests"],
            ["2026-03-02", "6"],
            ["2026-03-03", "< 5"],
        ]
        places = await table("places")
        assert places[1][:4] == ["lyon", "< 5", "0", "—"]
        assert places[2][:4] == ["paris", "6", "6", "7.0"]
        assert await table("ratings") == [["stars", "ratings"], ["5", "6"]]
        assert await table("outcomes", language="ar") == [["outcome", "requests"]]
        assert (await client.get("/trainer/handoffs/nope.csv")).status == 404
