"""A coach on Telegram, through a real Telegram library (aiogram or python-telegram-bot, as
the ``telegram_runtime`` fixture chose) and the fake Bot API server."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from unittest.mock import patch

from aiogram.client.session.aiohttp import AiohttpSession
from aiohttp import ClientSession
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from bot.app import Coach, build, running
from bot.delivery.limits import RateLimiter
from bot.i18n import Catalogs
from bot.store.tables import InboundKey, Learner, OutboxRow
from tests.conftest import settings_for
from tests.fakes import FakeTelegram, FakeUser, FloodLimits, SentMessage, fake_telegram
from tests.fakes.telegram_objects import FakeGroup

UNLIMITED = {
    "private_per_second": 1000.0,
    "private_burst": 1000,
    "group_per_minute": 100_000,
    "total_per_second": 100_000,
}


class VirtualClock:
    """Seconds that pass only when someone sleeps: a minute of rate limits in no time."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@asynccontextmanager
async def coach_on_telegram(
    database_url: str,
    tg: FakeTelegram | None = None,
    *,
    limiter_clock: VirtualClock | None = None,
    hold_seconds: float | None = None,
    **settings: Any,
) -> AsyncIterator[tuple[Coach, FakeTelegram]]:
    """The whole coach, polling the fake server (or behind a webhook); yields it with the fake.

    Rate limits are off unless a test sets them: journeys should not wait a second a message.
    ``limiter_clock`` runs the coach's rate limiter on virtual time; ``hold_seconds`` is how
    long the sender may wait for one chat's limit before putting its message back for later.
    """
    async with _telegram(tg) as fake:
        with patch("bot.app.Catalogs", _shared_catalogs):
            coach = build(
                settings_for(
                    database_url,
                    telegram_token=fake.token,
                    telegram_api_base=fake.base_url,
                    **{"web_port": 0, **UNLIMITED, **settings},
                )
            )
        assert coach.sender is not None
        coach.sender.idle_seconds = 0.25  # a retry that comes due is seen soon
        if hold_seconds is not None:
            coach.sender.hold_seconds = hold_seconds
        if limiter_clock is not None:
            limits = coach.sender.limiter.limits
            coach.sender.limiter = RateLimiter(limits, limiter_clock, limiter_clock.sleep)
        if coach.store.engine.dialect.name == "sqlite":
            _readers[id(coach)] = create_async_engine(database_url)
        try:
            with patch.object(AiohttpSession, "close", _close_at_once):
                async with running(coach):
                    yield coach, fake
        finally:
            reader = _readers.pop(id(coach), None)
            if reader is not None:
                await reader.dispose()


_catalogs: dict[tuple[str, tuple[str, ...], str], Catalogs] = {}


def _shared_catalogs(locales: Path, languages: list[str], fallback: str) -> Catalogs:
    """Reading every .po file takes a third of a second: the tests' coaches share a reading."""
    key = (str(locales), tuple(languages), fallback)
    if key not in _catalogs:
        _catalogs[key] = Catalogs(locales, languages, fallback)
    return _catalogs[key]


async def _close_at_once(self: AiohttpSession) -> None:
    """aiogram waits 250 ms after closing for TLS connections; loopback HTTP has none."""
    if self._session is not None and not self._session.closed:
        await self._session.close()


@asynccontextmanager
async def _telegram(tg: FakeTelegram | None) -> AsyncIterator[FakeTelegram]:
    if tg is not None:
        yield tg
        return
    async with fake_telegram(limits=FloodLimits.off()) as fake:
        yield fake


WEBHOOK_SECRET = "webhook-secret_for-tests"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@asynccontextmanager
async def coach_behind_webhook(
    database_url: str, **settings: Any
) -> AsyncIterator[tuple[Coach, FakeTelegram, str]]:
    """The whole coach taking updates on its web server; yields it, the fake and the hook URL."""
    port = free_port()
    async with coach_on_telegram(
        database_url,
        telegram_webhook_url="https://coach.example.org/telegram/webhook",
        telegram_webhook_secret=WEBHOOK_SECRET,
        web_port=port,
        **settings,
    ) as (coach, tg):
        yield coach, tg, f"http://127.0.0.1:{port}/telegram/webhook"


async def post_update(url: str, update: dict[str, Any], secret: str | None = WEBHOOK_SECRET) -> int:
    """Deliver an update the way Telegram calls a webhook; the HTTP status of the answer."""
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with ClientSession() as http, http.post(url, json=update, headers=headers) as answer:
        return answer.status


_readers: dict[int, AsyncEngine] = {}


@asynccontextmanager
async def reading(coach: Coach) -> AsyncIterator[AsyncSession]:
    """A session for the test's own look at the database.

    On SQLite every coach transaction takes the write lock; the test reads through an engine
    of its own that does not, so watching the coach never makes it wait.
    """
    engine = _readers.get(id(coach))
    if engine is None:
        async with coach.store.unit_of_work() as uow:
            yield uow.session
        return
    async with AsyncSession(engine, expire_on_commit=False) as session:
        yield session


def update_key(update: dict[str, Any]) -> str:
    """The idempotency key the coach stores for a handled update."""
    if "callback_query" in update:
        return f"tg:c:{update['callback_query']['id']}"
    message = update.get("message") or update.get("edited_message") or {}
    return f"tg:m:{message['chat']['id']}:{message['message_id']}"


async def waiting(coach: Coach) -> int:
    """Outbox messages not yet sent (pending, or claimed by a sender)."""
    async with reading(coach) as session:
        count = await session.scalar(
            select(func.count()).where(OutboxRow.status.in_(("pending", "sending")))
        )
    return int(count or 0)


async def settled(
    coach: Coach, update: dict[str, Any], within: float = 10.0, *, sent: bool = True
) -> None:
    """Wait until the coach handled this update and (unless ``sent`` is False) sent
    everything it had to send."""
    key = update_key(update)
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        async with reading(coach) as session:
            handled = await session.get(InboundKey, key) is not None
        if handled and (not sent or not await waiting(coach)):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"update {key} not settled within {within} s")


async def drained(coach: Coach, within: float = 10.0) -> None:
    """Wait until the outbox has nothing left to send."""
    deadline = asyncio.get_running_loop().time() + within
    while await waiting(coach):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"outbox still not drained after {within} s")
        await asyncio.sleep(0.02)


async def eventually(condition: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    """Wait until an asynchronous condition holds, such as a look at the database."""
    deadline = asyncio.get_running_loop().time() + within
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still not true after {within} s: {condition}")
        await asyncio.sleep(0.01)


async def quiet(coach: Coach, tg: FakeTelegram, *updates: dict[str, Any]) -> None:
    """For updates the coach ignores: wait until it is done with them (it fetched the updates
    after them; behind a webhook, its answer says so), then check nothing is to be sent."""
    for update in updates:
        await tg.wait_until(partial(tg.done_with, update))
    assert await waiting(coach) == 0


async def handled(coach: Coach, update: dict[str, Any]) -> bool:
    async with reading(coach) as session:
        return await session.get(InboundKey, update_key(update)) is not None


async def learner_row(coach: Coach, user: FakeUser, chat: FakeGroup | None = None) -> Learner:
    """The learner as the database keeps them, in their private chat or a group."""
    chat_id = str(chat.id if chat is not None else user.id)
    async with reading(coach) as session:
        row = await session.scalar(
            select(Learner).where(
                Learner.channel == "telegram",
                Learner.chat_id == chat_id,
                Learner.user_id == str(user.id),
            )
        )
    assert row is not None, f"no learner {user.first_name} in chat {chat_id}"
    return row


async def outbox(coach: Coach, chat_id: int) -> list[OutboxRow]:
    """The chat's outbox rows, oldest first."""
    async with reading(coach) as session:
        rows = await session.scalars(
            select(OutboxRow)
            .where(OutboxRow.channel == "telegram", OutboxRow.chat_id == str(chat_id))
            .order_by(OutboxRow.id)
        )
        return list(rows)


def small_course(
    folder: Path, lessons: dict[str, str], media: dict[str, bytes] | None = None
) -> Path:
    """A one-module course in ``folder``: lesson id → the lesson's YAML; media path → bytes."""
    module = folder / "basics"
    module.mkdir(parents=True)
    for lesson_id, text in lessons.items():
        (module / f"{lesson_id}.yaml").write_text(f"id: {lesson_id}\n{text}", encoding="utf-8")
    for path, data in (media or {}).items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    (folder / "course.yaml").write_text(
        "id: small\ntitle: A small course\nsource_language: en\nmodules:\n"
        f"  - id: basics\n    title: Basics\n    lessons: [{', '.join(lessons)}]\n",
        encoding="utf-8",
    )
    return folder


@dataclass
class TelegramLearner:
    """A person using Telegram: what they do, and what the coach shows them.

    In a group, ``last`` is what the coach sent after this person's last action, and
    ``taps`` presses buttons on messages the coach sent in answer to this person.
    """

    coach: Coach
    tg: FakeTelegram
    user: FakeUser
    chat: FakeGroup | None = None
    last: list[SentMessage] = field(default_factory=list)
    mine: list[SentMessage] = field(default_factory=list)

    @property
    def chat_id(self) -> int:
        return self.chat.id if self.chat is not None else self.user.id

    async def _after(self, update: dict[str, Any]) -> list[str]:
        before = len(self.tg.sent(self.chat_id))  # nothing is sent before the next await
        await settled(self.coach, update)
        self.last = self.tg.sent(self.chat_id)[before:]
        self.mine.extend(self.last)
        return [m.text or "" for m in self.last]

    async def says(self, text: str, **extra: Any) -> list[str]:
        if text.startswith("/"):
            update = self.tg.send_command(self.user, text, chat=self.chat, **extra)
        else:
            update = self.tg.send_text(self.user, text, chat=self.chat, **extra)
        return await self._after(update)

    def button(self, label: str) -> tuple[SentMessage, str]:
        """The newest of this person's messages with this button, and its full label."""
        messages = self.mine if self.chat is not None else self.tg.sent(self.chat_id)
        for message in reversed(messages):
            for button in message.labels:
                if button.split(". ", 1)[-1] == label:
                    return message, button
        raise AssertionError(f"no button {label!r}")

    async def taps(self, label: str) -> list[str]:
        """Press the newest button with this label (its number is not needed)."""
        message, button = self.button(label)
        return await self._after(self.tg.press(self.user, message, button, chat=self.chat))

    async def does(self, update: dict[str, Any]) -> list[str]:
        return await self._after(update)

    def buttons(self) -> list[str]:
        offered = [m for m in self.last if m.labels]
        return [label.split(". ", 1)[-1] for label in offered[-1].labels] if offered else []
