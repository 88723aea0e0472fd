"""The web app around the chat: the page, health, media, and a database that goes away."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot.app import build, reload_course
from bot.course.problems import CourseError
from tests.conftest import JOURNEY_COURSE, settings_for
from tests.web_learner import WebLearner


async def test_the_page_and_its_files_are_served(client: TestClient[Any, Any]) -> None:
    page = await client.get("/")
    assert page.status == 200
    html = await page.text()
    assert "/static/chat.js" in html and "/static/chat.css" in html
    for name in ("chat.js", "chat.css"):
        assert (await client.get(f"/static/{name}")).status == 200


async def test_health_says_ok_when_the_database_answers(client: TestClient[Any, Any]) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_an_unreachable_database_gets_a_clear_error_and_loses_nothing() -> None:
    coach = build(settings_for("postgresql+asyncpg://coach@127.0.0.1:1/coach"))
    async with TestClient(TestServer(coach.web)) as client:
        learner = WebLearner(client, language="fr")
        await learner.says("/start")
        assert learner.status == 503
        assert learner.error and "minute" in learner.error
        assert (await client.get("/healthz")).status == 503
    await coach.store.close()


@pytest.mark.postgres
async def test_a_dropped_database_connection_is_replaced(
    client: TestClient[Any, Any], coach: Any
) -> None:
    learner = WebLearner(client)
    await learner.says("/start")
    if coach.store.engine.dialect.name != "postgresql":
        pytest.skip("connections are only dropped by a database server")
    async with coach.store.engine.connect() as connection:
        await connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    said = await learner.taps("English")
    assert learner.status == 200
    assert said[-1] == "What would you like to do?"


def test_a_broken_course_stops_the_coach_from_starting(tmp_path: Path) -> None:
    with pytest.raises(CourseError):
        build(settings_for(f"sqlite+aiosqlite:///{tmp_path}/c.db", curriculum=tmp_path))


async def test_a_broken_edit_keeps_the_last_good_course(tmp_path: Path) -> None:
    course = tmp_path / "course"
    (course / "basics").mkdir(parents=True)
    for name in ("course.yaml", "basics/first-steps.yaml", "basics/replies.yaml"):
        (course / name).write_text((JOURNEY_COURSE / name).read_text())
    coach = build(settings_for(f"sqlite+aiosqlite:///{tmp_path}/c.db", curriculum=course))
    lesson = course / "basics" / "first-steps.yaml"
    lesson.write_text(lesson.read_text().replace("Hello there.", "Hello, friend."))
    reload_course(coach.courses)
    assert coach.courses.course.lesson("first-steps").steps[0].text == "Hello, friend."  # type: ignore[union-attr]
    lesson.write_text("steps: [")
    reload_course(coach.courses)
    assert coach.courses.course.lesson("first-steps").steps[0].text == "Hello, friend."  # type: ignore[union-attr]
    await coach.store.close()
