"""A database that is down or too slow: a 503 with Retry-After and a sentence, never a hang."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.app import Coach
from bot.services.coach import Unavailable
from tests.web_learner import WebLearner


@contextlib.asynccontextmanager
async def stalled() -> AsyncIterator[Any]:
    await asyncio.Event().wait()  # a database that never answers
    yield None


async def unavailable(*_args: Any, **_kwargs: Any) -> Any:
    raise Unavailable


async def test_health_says_unavailable_when_the_database_is_too_slow(
    client: TestClient[Any, Any], coach: Coach, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.web.app.HEALTH_SECONDS", 0.05)
    monkeypatch.setattr(coach.store, "unit_of_work", stalled)
    async with asyncio.timeout(10):  # a guard against a hang, not a measure of speed
        response = await client.get("/healthz")
    assert response.status == 503 and int(response.headers["Retry-After"]) > 0
    assert (await response.json())["status"] == "database unavailable"


async def test_a_learner_is_told_to_retry_when_the_database_is_unavailable(
    client: TestClient[Any, Any], coach: Coach, monkeypatch: pytest.MonkeyPatch
) -> None:
    learner = WebLearner(client, language="fr")
    await learner.says("/start")
    monkeypatch.setattr(coach.service, "handle", unavailable)
    monkeypatch.setattr(coach.service, "messages_after", unavailable)
    monkeypatch.setattr(coach.service, "language_for", unavailable)
    requests = [
        client.post(learner.url, json={"text": "1"}, headers={"Accept-Language": "fr"}),
        client.post(learner.url, json={"text": "1", "reply_to": 1}),
        client.post(learner.url, json={"nothing": 1}),
        client.get(learner.url),
        client.post("/api/webchat", json={"text": "/start"}),
    ]
    for request in requests:
        response = await request
        body = await response.json()
        if response.status == 400:  # refused before the database: still a sentence
            assert body["error"]
            continue
        assert response.status == 503 and int(response.headers["Retry-After"]) > 0
        assert "minute" in body["error"]
