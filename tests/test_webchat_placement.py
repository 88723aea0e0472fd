"""A newcomer in the web chat answers the placement questions, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build
from tests.conftest import ROOT, settings_for
from tests.web_learner import WebLearner

PLACEMENT_COURSE = ROOT / "tests" / "fixtures" / "courses" / "placement"


@pytest.fixture
async def placed(engine: AsyncEngine, database_url: str) -> AsyncIterator[TestClient[Any, Any]]:
    """The web chat of a coach whose course asks two placement questions."""
    coach = build(settings_for(database_url, curriculum=PLACEMENT_COURSE))
    async with TestClient(TestServer(coach.web)) as client:
        yield client
    await coach.store.close()


async def test_a_newcomer_says_no_to_the_second_question_and_starts_that_module(
    placed: TestClient[Any, Any],
) -> None:
    learner = WebLearner(placed)
    await learner.says("/start")
    said = await learner.taps("English")
    assert said[-1] == (
        "A few quick questions, so I can suggest where to start. You can skip them.\n\n"
        "Can you already send a photo in a chat?"
    )
    assert learner.buttons() == ["Yes", "No", "Skip"]
    assert await learner.says("1") == ["Can you already make a video call?"]
    assert await learner.taps("No") == ["Let's start with Calls."]
    assert learner.buttons() == ["Start: Video calls", "Choose from the menu"]
    said = await learner.says("1")
    assert said[-1] == "Make video calls on Wi-Fi."

    said = await learner.says("/start")
    assert said == ["Welcome back!", "What would you like to do?"]
    assert learner.buttons()[0] == "Continue: Video calls"


async def test_a_newcomer_who_skips_gets_the_usual_menu(placed: TestClient[Any, Any]) -> None:
    learner = WebLearner(placed)
    await learner.says("/start")
    await learner.taps("English")
    assert await learner.taps("Skip") == ["What would you like to do?"]
    assert learner.buttons()[:2] == ["Using this chat", "Calls"]
