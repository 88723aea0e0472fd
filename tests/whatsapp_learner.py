"""A coach on WhatsApp, through pywa's async client and the fake Graph API server, with
learners who write, tap and send pictures through signed webhooks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from unittest.mock import patch

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import Coach, build, running
from bot.channels.whatsapp.delivery import WhatsAppDelivery
from bot.services.nudging import NudgeSweep
from bot.store.tables import InboundKey, Learner, OutboxRow
from scheduler.jobs import sweep
from tests.conftest import JOURNEY_COURSE, settings_for
from tests.fakes import whatsapp_webhooks as hook
from tests.fakes.whatsapp_graph import APP_SECRET, PHONE_NUMBER_ID, TOKEN, FakeGraph, WaSent
from tests.fakes.whatsapp_graph import fake_graph as _fake_graph
from tests.telegram_learner import (
    UNLIMITED,
    _readers,
    _shared_catalogs,
    drained,
    free_port,
    reading,
)

VERIFY_TOKEN = "verify-token-for-tests"


def whatsapp_settings(graph: FakeGraph) -> dict[str, Any]:
    return {
        "whatsapp_token": TOKEN,
        "whatsapp_phone_number_id": PHONE_NUMBER_ID,
        "whatsapp_app_secret": APP_SECRET,
        "whatsapp_verify_token": VERIFY_TOKEN,
        "whatsapp_api_base": graph.base_url,
    }


@asynccontextmanager
async def coach_on_whatsapp(
    database_url: str, **settings: Any
) -> AsyncIterator[tuple[Coach, FakeGraph]]:
    """The whole coach, its webhook on a loopback port the fake calls; rate limits off."""
    curriculum = settings.pop("curriculum", JOURNEY_COURSE)
    async with _fake_graph() as graph:
        port = free_port()
        values = {"web_port": port, **UNLIMITED, **whatsapp_settings(graph), **settings}
        with patch("bot.app.Catalogs", _shared_catalogs):
            coach = build(settings_for(database_url, curriculum, **values))
        assert coach.sender is not None
        coach.sender.idle_seconds = 0.25
        graph.webhook_url = f"http://127.0.0.1:{port}/whatsapp/webhook"
        if coach.store.engine.dialect.name == "sqlite":
            _readers[id(coach)] = create_async_engine(database_url)
        try:
            async with running(coach):
                yield coach, graph
        finally:
            reader = _readers.pop(id(coach), None)
            if reader is not None:
                await reader.dispose()


class WallClock:
    """The coach's and the fake's time of day, moved on by the test (days in no time)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def on_clock(coach: Coach, graph: FakeGraph, clock: WallClock) -> None:
    """The learner's messages, the 24-hour window and the fake's window run on ``clock``
    (in the past: the sender's real clock finds every row due)."""
    coach.service.clock = clock
    delivery = coach.channels["whatsapp"].delivery
    assert isinstance(delivery, WhatsAppDelivery)
    delivery.clock = clock
    graph.clock = clock
    # The coach's own reminder sweep runs on the same clock: one that starts late on a busy
    # machine must not find a reminder due in real time that is not due on the test's.
    for job in coach.jobs:
        if job.name == "nudge-sweep":
            object.__setattr__(job, "run", partial(sweep, nudge_sweep(coach), clock))


def nudge_sweep(coach: Coach) -> NudgeSweep:
    """The coach's own reminder sweep, to run at a chosen time."""
    for job in coach.jobs:
        if job.name == "nudge-sweep":
            sweep = job.run.args[0]  # type: ignore[attr-defined]
            assert isinstance(sweep, NudgeSweep)
            return sweep
    raise AssertionError("no reminder sweep")


async def handled(coach: Coach, message_id: str) -> bool:
    async with reading(coach) as session:
        return await session.get(InboundKey, f"wa:m:{message_id}") is not None


async def outbox(coach: Coach, wa_id: str) -> list[OutboxRow]:
    async with reading(coach) as session:
        rows = await session.scalars(
            select(OutboxRow)
            .where(OutboxRow.channel == "whatsapp", OutboxRow.chat_id == wa_id)
            .order_by(OutboxRow.id)
        )
        return list(rows)


async def learner_row(coach: Coach, wa_id: str) -> Learner:
    async with reading(coach) as session:
        row = await session.scalar(
            select(Learner).where(Learner.channel == "whatsapp", Learner.chat_id == wa_id)
        )
    assert row is not None, "no such learner on WhatsApp"
    return row


@dataclass
class WhatsAppLearner:
    """A person using WhatsApp: what they do (as Meta's signed webhooks), and what the coach
    shows them (as the fake Graph API received it)."""

    coach: Coach
    graph: FakeGraph
    wa_id: str
    name: str
    last: list[WaSent] = field(default_factory=list)

    async def does(self, value: hook.JSON) -> list[str]:
        """Send one webhook; what the coach sent back, once everything is sent."""
        before = len(self.graph.to(self.wa_id))
        assert await self.graph.post_webhook(value) == 200
        assert await handled(self.coach, hook.message_id(value))
        await drained(self.coach)
        self.last = self.graph.to(self.wa_id)[before:]
        return [m.body or "" for m in self.last]

    async def says(self, text: str, replying_to: WaSent | None = None) -> list[str]:
        """Write ``text``; with ``replying_to``, as a reply (swipe) to that message."""
        extra = {} if replying_to is None else {"context": {"id": replying_to.id}}
        return await self.does(hook.text(self.wa_id, self.name, text, **extra))

    async def sends_image(self) -> list[str]:
        return await self.does(hook.image(self.wa_id, self.name))

    async def sends_voice(self) -> list[str]:
        return await self.does(hook.voice(self.wa_id, self.name))

    def choice(self, label: str) -> tuple[WaSent, str, str]:
        """The newest message offering ``label``: the message, the choice's id and title."""
        for message in reversed(self.graph.to(self.wa_id)):
            for (row_id, title), whole in zip(message.choices, self._labels(message), strict=True):
                if whole == label:
                    return message, row_id, title
        raise AssertionError(f"no choice {label!r}")

    async def taps(self, label: str) -> list[str]:
        """Tap the newest reply button or list row for ``label`` (its number not needed)."""
        message, row_id, title = self.choice(label)
        return await self.does(
            hook.tap(self.wa_id, self.name, message.id, row_id, title, message.listed)
        )

    async def taps_quick_reply(self, template: WaSent, index: int) -> list[str]:
        """Tap a quick-reply button of a template message."""
        payload, _ = template.choices[index]
        return await self.does(
            hook.quick_reply(self.wa_id, self.name, template.id, payload, f"reply {index}")
        )

    def choices(self) -> list[str]:
        offered = [m for m in self.last if m.choices]
        return self._labels(offered[-1]) if offered else []

    @staticmethod
    def _labels(message: WaSent) -> list[str]:
        """The options in full, as the numbered lines at the end of the message body."""
        lines = (message.body or "").split("\n")[-len(message.choices) :]
        return [line.split(". ", 1)[-1] for line in lines] if message.choices else []
