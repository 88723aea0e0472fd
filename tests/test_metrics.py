"""Operators scrape /metrics (Prometheus' text format) and ask /readyz whether a coach serves."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Coach
from bot.cli.loading import JsonLines
from bot.delivery.errors import RetryAfter
from bot.delivery.limits import Limits, RateLimiter
from bot.delivery.sender import OutboxSender
from bot.services.coach import utc_now
from bot.store.delivery_queue import DeliveryQueue
from bot.store.outbox import OutboundMessage
from bot.store.tables import OutboxRow
from bot.store.unit_of_work import Store, UnitOfWork
from bot.web.metrics import Operations
from tests.web_learner import PNG, WebLearner

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(client: TestClient[Any, Any]) -> Samples:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    samples: Samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_counters_move_with_a_web_chat_journey(client: TestClient[Any, Any]) -> None:
    before = await scrape(client)
    learner = WebLearner(client)
    await learner.says("/start")
    await learner.taps("English")
    await learner.taps("Basics")
    await learner.taps("First steps (2 min)")
    await learner.says("1")
    await learner.sends("photo", PNG)  # not the answer to a question: still an event

    after = await scrape(client)
    events = "coach_events_handled_total"
    assert (
        value(after, events, channel="web", kind="button")
        - value(before, events, channel="web", kind="button")
        == 3
    )
    for kind in ("command", "text", "photo"):  # /start, "1", a photo
        assert (
            value(after, events, channel="web", kind=kind)
            - value(before, events, channel="web", kind=kind)
            == 1
        )
    handled = "coach_event_handling_seconds_count"
    assert value(after, handled, channel="web") - value(before, handled, channel="web") == 6
    assert value(after, "coach_handoffs_open", status="open") == 0
    assert value(after, "coach_outbox_oldest_age_seconds") == 0  # the web chat is pulled
    assert all(learner.chat_id not in str(key) for key in after)  # no chat in a label


async def test_ready_when_the_database_answers_and_a_course_is_loaded(
    coach: Coach, client: TestClient[Any, Any]
) -> None:
    ready = await client.get("/readyz")
    assert ready.status == 200 and (await ready.json())["status"] == "ready"
    assert (await client.get("/healthz")).status == 200
    app = web.Application()
    app.add_routes(Operations(Unreachable(), coach.courses, ["telegram"], utc_now).routes())
    async with TestClient(TestServer(app)) as alone:
        unready = await alone.get("/readyz")
        assert unready.status == 503
        assert (await unready.json())["problems"] == ["database unavailable"]
        assert (await alone.get("/metrics")).status == 200  # counters without the database


class Unreachable(Store):
    """A database that refuses every connection."""

    def __init__(self) -> None:
        pass

    @contextlib.asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        raise ConnectionRefusedError
        yield


class Flooded:
    """A private chat whose platform answers 429 once, then takes every message."""

    def __init__(self) -> None:
        self.tries = 0

    def is_group(self, chat_id: str) -> bool:
        return False

    async def deliver(self, message: OutboundMessage) -> str | None:
        self.tries += 1
        if self.tries == 1:
            raise RetryAfter(0)
        return str(self.tries)


async def test_sends_and_flood_control_are_counted_by_channel(
    engine: AsyncEngine, client: TestClient[Any, Any]
) -> None:
    store = Store(engine)
    async with store.unit_of_work() as uow:
        for n in range(2):
            uow.session.add(
                OutboxRow(
                    channel="metrics-test",
                    chat_id="1001",
                    text=f"message {n}",
                    buttons=[],
                    language="en",
                    dedupe_key=f"metrics-test-{n}",
                    not_before=utc_now() - timedelta(seconds=1),
                    created_at=utc_now(),
                )
            )
    before = await scrape(client)
    sender = OutboxSender(
        DeliveryQueue(store),
        {"metrics-test": Flooded()},
        RateLimiter(Limits(), lambda: 0.0),
        utc_now,
    )
    await sender.drain_once()
    sender.limiter = RateLimiter(Limits(), lambda: 1000.0)
    sender.clock = lambda: utc_now() + timedelta(seconds=5)
    await sender.drain_once()
    after = await scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("coach_sends_total", channel="metrics-test", result="flood_control") == 1
    assert moved("coach_flood_control_total", channel="metrics-test") == 1
    assert moved("coach_sends_total", channel="metrics-test", result="sent") == 2
    await store.close()


def test_json_log_lines_carry_the_message_and_no_more() -> None:
    record = logging.LogRecord(
        "bot.x", logging.INFO, __file__, 1, "event %s: %d", ("ab12", 2), None
    )
    line = json.loads(JsonLines().format(record))
    assert line["message"] == "event ab12: 2" and line["level"] == "INFO"
    assert set(line) == {"time", "level", "logger", "message"}
