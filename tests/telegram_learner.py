"""A coach on Telegram, through the real aiogram stack and the fake Bot API server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from bot.app import Coach, build, running
from bot.store.tables import InboundKey, OutboxRow
from tests.conftest import settings_for
from tests.fakes import FakeTelegram, FakeUser, FloodLimits, SentMessage, fake_telegram
from tests.fakes.telegram_objects import FakeGroup


@asynccontextmanager
async def coach_on_telegram(
    database_url: str, tg: FakeTelegram | None = None, **settings: Any
) -> AsyncIterator[tuple[Coach, FakeTelegram]]:
    """The whole coach, polling the fake server; yields it with the fake.

    Rate limits are off unless a test sets them: journeys should not wait a second a message.
    """
    unlimited = {
        "private_per_second": 1000.0,
        "private_burst": 1000,
        "group_per_minute": 100_000,
        "total_per_second": 100_000,
    }
    async with _telegram(tg) as fake:
        coach = build(
            settings_for(
                database_url,
                telegram_token=fake.token,
                telegram_api_base=fake.base_url,
                web_port=0,
                **{**unlimited, **settings},
            )
        )
        async with running(coach):
            yield coach, fake


@asynccontextmanager
async def _telegram(tg: FakeTelegram | None) -> AsyncIterator[FakeTelegram]:
    if tg is not None:
        yield tg
        return
    async with fake_telegram(limits=FloodLimits.off()) as fake:
        yield fake


async def settled(coach: Coach, update: dict[str, Any], within: float = 10.0) -> None:
    """Wait until the coach handled this update and sent everything it had to send."""
    if "callback_query" in update:
        key = f"tg:c:{update['callback_query']['id']}"
    else:
        message = update.get("message") or update.get("edited_message") or {}
        key = f"tg:m:{message['chat']['id']}:{message['message_id']}"
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        async with coach.store.unit_of_work() as uow:
            handled = await uow.session.get(InboundKey, key) is not None
            waiting = await uow.session.scalar(
                select(func.count()).where(OutboxRow.status.in_(("pending", "sending")))
            )
        if handled and not waiting:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"update {key} not settled within {within} s")


async def quiet(coach: Coach, seconds: float = 0.3) -> None:
    """For updates the coach ignores: give it time, then check nothing is waiting."""
    await asyncio.sleep(seconds)
    async with coach.store.unit_of_work() as uow:
        waiting = await uow.session.scalar(
            select(func.count()).where(OutboxRow.status.in_(("pending", "sending")))
        )
    assert waiting == 0


@dataclass
class TelegramLearner:
    """A person using Telegram: what they do, and what the coach shows them."""

    coach: Coach
    tg: FakeTelegram
    user: FakeUser
    chat: FakeGroup | None = None
    seen: int = 0
    last: list[SentMessage] = field(default_factory=list)

    @property
    def chat_id(self) -> int:
        return self.chat.id if self.chat is not None else self.user.id

    async def _after(self, update: dict[str, Any]) -> list[str]:
        await settled(self.coach, update)
        everything = self.tg.sent(self.chat_id)
        self.last = everything[self.seen :]
        self.seen = len(everything)
        return [m.text or "" for m in self.last]

    async def says(self, text: str, **extra: Any) -> list[str]:
        if text.startswith("/"):
            update = self.tg.send_command(self.user, text, chat=self.chat)
        else:
            update = self.tg.send_text(self.user, text, chat=self.chat, **extra)
        return await self._after(update)

    async def taps(self, label: str) -> list[str]:
        """Press the newest button with this label (its number is not needed)."""
        for message in reversed(self.tg.sent(self.chat_id)):
            for button in message.labels:
                if button.split(". ", 1)[-1] == label:
                    return await self._after(
                        self.tg.press(self.user, message, button, chat=self.chat)
                    )
        raise AssertionError(f"no button {label!r}")

    async def does(self, update: dict[str, Any]) -> list[str]:
        return await self._after(update)

    def buttons(self) -> list[str]:
        offered = [m for m in self.last if m.labels]
        return [label.split(". ", 1)[-1] for label in offered[-1].labels] if offered else []
