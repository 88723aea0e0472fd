"""Trainers see where a scripted cohort of web chat learners stopped, question by question:
the funnel on the page and in its CSV matches one the test works out from the script."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Coach, build
from bot.channels.registry import known_channels
from bot.services.coach import utc_now
from bot.services.figures import shown
from bot.services.nudging import NudgeSweep
from bot.store.tables import EventRow, Learner
from tests import web_learner
from tests.conftest import settings_for
from tests.web_learner import PNG, WebLearner

STEPS = ("hello", "colour", "animal", "photo", "recap")
FINISHED = len(STEPS)
# Where each learner of the cohort stops (an index in STEPS; FINISHED: the whole lesson),
# and whether they first pick a wrong option for the colour question.
COHORT = [0] * 6 + [1] * 5 + [2] * 1 + [FINISHED] * 5
WRONG_FIRST = 5  # of the 6 who answer the colour question


@pytest.fixture
async def trainer_coach(engine: AsyncEngine, database_url: str) -> AsyncIterator[Coach]:
    built = build(settings_for(database_url, trainer_token="s3cret"))
    yield built
    await built.store.close()


@pytest.fixture
async def trainer(trainer_coach: Coach) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(trainer_coach.web)) as client:
        yield client


async def takes_the_lesson(learner: WebLearner, stop: int, wrong_first: bool) -> None:
    """Start "First steps" and go on until step ``stop`` is shown, then go quiet."""
    if learner.credential is None:
        await learner.says("/start")
        await learner.taps("English")
        await learner.taps("Basics")
        await learner.taps("First steps (2 min)")
    if stop > 0:
        await learner.says("1")  # hello: continue
    if stop > 1:
        if wrong_first:
            await learner.taps("Table")
        await learner.taps("Blue")
    if stop > 2:
        await learner.says(str(learner.buttons().index("Cat") + 1))
    if stop > 3:
        await learner.sends("photo", PNG)
    if stop > 4:
        said = await learner.taps("Finish the lesson ✅")
        assert said[0].startswith("🎉")


def expected_funnel(stops: list[int]) -> list[list[str]]:
    """Worked out from the script alone: who reached each step, and who stopped there."""
    rows = [["step", "reached", "stopped"]]
    for index, step in enumerate(STEPS):
        reached = sum(1 for stop in stops if stop >= index)
        stopped = sum(1 for stop in stops if stop == index)
        rows.append([step, shown(reached), shown(stopped)])
    return rows


async def signs_in(client: TestClient[Any, Any]) -> None:
    signed = await client.post("/trainer/sign-in", data={"token": "s3cret"}, allow_redirects=False)
    assert signed.status == 303


async def previews(client: TestClient[Any, Any]) -> WebLearner:
    """A trainer opens the lesson's preview and goes through it like a learner."""
    opened = await client.get(
        "/trainer/preview", params={"lesson": "first-steps", "lang": "en"}, allow_redirects=False
    )
    credential = opened.headers["Location"].split("#c=", 1)[1]
    web_learner._credentials.setdefault(client, {})["trainer-preview"] = credential
    preview = WebLearner(client, conversation="trainer-preview")
    await preview.fetch()
    await takes_the_lesson(preview, FINISHED, wrong_first=True)
    await preview.taps("Next lesson: Replies")  # a start a learner's would be counted
    return preview


async def download(client: TestClient[Any, Any], path: str, **query: str) -> list[list[str]]:
    response = await client.get(path, params=query)
    assert response.status == 200, await response.text()
    assert response.content_type == "text/csv"
    return list(csv.reader(io.StringIO(await response.text())))


async def test_the_funnel_shows_where_a_scripted_cohort_stopped(
    trainer_coach: Coach, trainer: TestClient[Any, Any]
) -> None:
    for number, stop in enumerate(COHORT):
        wrong = stop > 1 and number % 6 != 5  # five of the six who answer pick "Table" first
        await takes_the_lesson(WebLearner(trainer), stop, wrong)
    await signs_in(trainer)
    preview = await previews(trainer)

    funnel = await download(trainer, "/trainer/lessons/first-steps/funnel.csv")
    assert funnel == expected_funnel(COHORT)
    assert funnel[1] == ["hello", "17", "6"] and funnel[3] == ["animal", "6", "< 5"]

    page = await (await trainer.get("/trainer/lessons/first-steps")).text()
    assert "<svg" in page and 'class="funnel"' in page and "17 learners started" in page
    assert "/trainer/lessons/first-steps/funnel.csv" in page and "&lt; 5" in page

    quizzes = await download(trainer, "/trainer/lessons/first-steps/quizzes.csv")
    assert quizzes[1][:4] == ["colour", "6", str(WRONG_FIRST), "83 %"]
    options = await download(trainer, "/trainer/lessons/first-steps/wrong-options.csv")
    assert ["colour", "Table", str(WRONG_FIRST)] in options and ["colour", "Run", "0"] in options
    practice = await download(trainer, "/trainer/lessons/first-steps/practice.csv")
    assert practice[1][:3] == ["photo", "5", "0"]

    lessons = await download(trainer, "/trainer/figures/lessons.csv")
    assert lessons[1][:4] == ["first-steps", "17", "5", "29 %"]
    assert lessons[2][:3] == ["replies", "0", "0"]  # only the trainer's preview started it

    # Filters: nobody spoke French, and nobody started tomorrow.
    french = await download(trainer, "/trainer/lessons/first-steps/funnel.csv", language="fr")
    assert french == expected_funnel([])
    tomorrow = (utc_now() + timedelta(days=1)).date().isoformat()
    later = await download(trainer, "/trainer/lessons/first-steps/funnel.csv", since=tomorrow)
    assert later == expected_funnel([])
    web = await download(trainer, "/trainer/lessons/first-steps/funnel.csv", channel="web")
    assert web == expected_funnel(COHORT)
    today = utc_now().date().isoformat()
    since_today = await download(trainer, "/trainer/lessons/first-steps/funnel.csv", since=today)
    assert since_today == expected_funnel(COHORT)
    course = await (await trainer.get("/trainer/figures", params={"since": today})).text()
    assert f'href="/trainer/lessons/first-steps?since={today}"' in course

    # Reminders go to the learners who stopped halfway, never to the trainer's preview.
    nudges = NudgeSweep(
        trainer_coach.store,
        trainer_coach.courses,
        trainer_coach.catalogs,
        trainer_coach.service.rules,
        known_channels(),
    )
    async with trainer_coach.store.unit_of_work() as uow:
        due = await uow.session.scalar(select(func.max(Learner.next_nudge_at)))
    assert due is not None
    reminded = await nudges.sweep(due + timedelta(minutes=1))
    assert reminded >= 5
    async with trainer_coach.store.unit_of_work() as uow:
        trainer_row = await uow.session.scalar(
            select(Learner.id).where(Learner.chat_id == preview.chat_id)
        )
        sent_to = set(
            await uow.session.scalars(
                select(EventRow.learner_id).where(EventRow.name == "nudge_sent")
            )
        )
        still_due = await uow.session.scalar(
            select(Learner.next_nudge_at).where(Learner.id == trainer_row)
        )
    assert trainer_row is not None and trainer_row not in sent_to and still_due is None
    reminders = await download(trainer, "/trainer/figures/reminders.csv")
    assert reminders[0][:3] == ["kind", "reminders sent", "learners reminded"]
    assert sum(int(row[1]) for row in reminders[1:] if row[1] != "< 5") >= 5


async def test_figures_are_for_signed_in_trainers_only(trainer: TestClient[Any, Any]) -> None:
    for path in (
        "/trainer/figures",
        "/trainer/figures/lessons.csv",
        "/trainer/lessons/first-steps",
        "/trainer/lessons/first-steps/funnel.csv",
        "/trainer/handoffs",
    ):
        response = await trainer.get(path, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == "/trainer"
    await signs_in(trainer)
    assert (await trainer.get("/trainer/lessons/nope/funnel.csv")).status == 404
    assert (await trainer.get("/trainer/lessons/first-steps/nope.csv")).status == 404
    empty = await download(trainer, "/trainer/lessons/first-steps/funnel.csv")
    assert empty == expected_funnel([])


async def test_a_learner_came_back_when_they_did_something_within_a_day(
    trainer_coach: Coach,
) -> None:
    """A volunteer's action about their request is not the learner coming back."""
    store = trainer_coach.store
    sent = utc_now() - timedelta(days=3)
    after = {"back": timedelta(hours=2), "late": timedelta(hours=30), "desk": timedelta(hours=1)}
    async with store.unit_of_work() as uow:
        for number in range(15):
            row = Learner(
                channel="telegram",
                chat_id=str(number),
                user_id=str(number),
                language="en",
                status="active",
                timezone="Europe/Paris",
                choices=[],
                reviews=[],
                created_at=sent,
                last_seen_at=sent,
            )
            uow.session.add(row)
            await uow.session.flush()
            await uow.record(row.id, "nudge_sent", {"kind": "lesson", "number": 1}, sent)
            how = list(after)[number % 3]
            name, data = ("handoff_claimed", {"handoff": 1}) if how == "desk" else ("step_done", {})
            await uow.record(row.id, name, data, sent + after[how])
    reminders = await download_figures(trainer_coach, "reminders")
    assert reminders[1] == ["lesson", "15", "15", "5", "33 %"]


async def download_figures(coach: Coach, table: str) -> list[list[str]]:
    async with TestClient(TestServer(coach.web)) as client:
        await signs_in(client)
        return await download(client, f"/trainer/figures/{table}.csv")
