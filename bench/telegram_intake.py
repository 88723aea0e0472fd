"""Learner updates handled per second through Telegram, end to end, beside a bare echo bot.

Both bots poll the same fake Bot API server (getUpdates long polling) in the same run,
one after the other, each with its own 200 learners × 5 updates queued up front (the
k-th update of every learner before anyone's (k+1)-th, as people take turns). Flood
control is off in the fake and the coach's limits are very high: this measures the
processing, not Telegram's limits.

- echo: an aiogram Dispatcher with one handler, ``message.answer(message.text)``.
- coach: the whole coach (``build`` + ``running``) on a temporary SQLite database with
  the shipped curriculum: each update is turned into a core event, the learner's state,
  event log, inbound key and outbox rows are stored in one transaction, and the replies
  go out through the outbox sender.

Time runs from the first getUpdates answer to the last reply accepted by the fake, once
every learner got all replies (echo: 5 each; coach: every update handled and the outbox
empty).
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiogram import Dispatcher
from aiogram.types import Message
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import build, running
from bot.channels.telegram.runtime import make_bot
from bot.config import Settings
from bot.store.database import create_engine, upgrade
from bot.store.tables import InboundKey, OutboxRow
from tests.fakes import FakeTelegram, FakeUser, FloodLimits, fake_telegram

ROOT = Path(__file__).resolve().parent.parent
LEARNERS = 200
SCRIPT = ["/start", "2", "1", "1", "1"]  # start, French, then the first option each time
REPLY_METHODS = frozenset({"sendmessage", "editmessagetext", "sendphoto", "sendvoice", "sendaudio"})
ECHO_ROUNDS = 3
WITHIN = 120.0  # seconds a phase may take before it is reported as unfinished


@dataclass(frozen=True)
class Phase:
    updates: int
    replies: int
    elapsed: float
    finished: bool
    stored: float | None = None  # seconds until every update was stored (coach only)

    @property
    def rate(self) -> float:
        return self.updates / self.elapsed if self.elapsed > 0 else 0.0


def queue_updates(tg: FakeTelegram, first_id: int) -> list[FakeUser]:
    learners = [
        tg.user(first_id + index, f"Learner {index}", language_code="fr")
        for index in range(LEARNERS)
    ]
    for step in SCRIPT:
        for learner in learners:
            if step.startswith("/"):
                tg.send_command(learner, step)
            else:
                tg.send_text(learner, step)
    return learners


async def wait_for(condition: Callable[[], Awaitable[bool]], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await condition():
            return True
        await asyncio.sleep(0.05)
    return await condition()


def measured(tg: FakeTelegram, mark: int, finished: bool, stored_at: float | None = None) -> Phase:
    """Figures from the fake's call log, from call number ``mark`` on."""
    calls = tg.state.calls[mark:]
    polls = [c.at for c in calls if c.method.lower() == "getupdates" and c.ok and c.response]
    replies = [c.at for c in calls if c.method.lower() in REPLY_METHODS and c.ok]
    elapsed = max(replies) - min(polls) if polls and replies else 0.0
    updates = sum(len(c.response.get("result", [])) for c in calls if c.method == "getUpdates")
    stored = stored_at - min(polls) if stored_at is not None and polls else None
    return Phase(min(updates, LEARNERS * len(SCRIPT)), len(replies), elapsed, finished, stored)


async def echo_phase(tg: FakeTelegram, first_id: int = 20_000_001) -> Phase:
    learners = queue_updates(tg, first_id)
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "…")

    bot = make_bot(tg.token, tg.base_url)
    mark = len(tg.state.calls)
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
    )

    async def answered() -> bool:
        return all(len(tg.sent(learner)) >= len(SCRIPT) for learner in learners)

    try:
        finished = await wait_for(answered, WITHIN)
    finally:
        with contextlib.suppress(RuntimeError):
            await dispatcher.stop_polling()
        await polling
        await bot.session.close()
    tg.take_updates()
    return measured(tg, mark, finished)


async def coach_phase(tg: FakeTelegram, url: str) -> Phase:
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    queue_updates(tg, 30_000_001)
    settings = Settings(
        _env_file=None,
        database_url=url,
        telegram_token=tg.token,
        telegram_api_base=tg.base_url,
        web_port=0,
        private_per_second=1000.0,  # limits out of the way: this measures the processing
        private_burst=1000,
        group_per_minute=100_000,
        total_per_second=100_000,
    )
    coach = build(settings)
    monitor = create_async_engine(url)
    expected = LEARNERS * len(SCRIPT)
    stored_at: float | None = None

    async def settled() -> bool:
        nonlocal stored_at
        async with monitor.connect() as connection:
            handled = await connection.scalar(select(func.count()).select_from(InboundKey))
            waiting = await connection.scalar(
                select(func.count()).where(OutboxRow.status.in_(("pending", "sending")))
            )
        if (handled or 0) >= expected and stored_at is None:
            stored_at = time.monotonic()
        return (handled or 0) >= expected and not waiting

    mark = len(tg.state.calls)
    try:
        async with running(coach):
            finished = await wait_for(settled, WITHIN)
    finally:
        await monitor.dispose()
    return measured(tg, mark, finished, stored_at)


async def run() -> None:
    print("== telegram intake: updates in by long polling, handled, replies accepted ==")
    print(
        f"{LEARNERS} learners × {len(SCRIPT)} updates ({' '.join(SCRIPT)}) queued up front "
        f"per bot; echo bot {ECHO_ROUNDS} rounds (median shown), then the coach; fake flood "
        "control off; coach limits unlimited; SQLite"
    )
    with tempfile.TemporaryDirectory(prefix="coach-bench-") as folder:
        async with fake_telegram(limits=FloodLimits.off()) as tg:
            rounds = [
                await echo_phase(tg, 20_000_001 + index * LEARNERS) for index in range(ECHO_ROUNDS)
            ]
            coach = await coach_phase(tg, f"sqlite+aiosqlite:///{folder}/intake.db")
    rounds.sort(key=lambda phase: phase.rate)
    echo = rounds[len(rounds) // 2]
    spread = ", ".join(f"{phase.rate:,.0f}" for phase in rounds)
    for name, phase in (("echo bot", echo), ("coach", coach)):
        note = "" if phase.finished else f"  (unfinished after {WITHIN:.0f} s)"
        print(
            f"{name:<9} {phase.updates} updates in {phase.elapsed:.2f} s: "
            f"{phase.rate:,.0f} updates/s, {phase.replies} replies "
            f"({phase.replies / max(phase.updates, 1):.1f} per update){note}"
        )
    print(f"echo runs {spread} updates/s")
    if coach.stored is not None:
        print(
            f"coach     every update stored {coach.stored:.2f} s after the first getUpdates "
            f"({coach.updates / coach.stored:,.0f} updates/s); last reply accepted at "
            f"{coach.elapsed:.2f} s"
        )
    if echo.rate > 0:
        print(f"ratio     coach / echo = {coach.rate / echo.rate:.3f}")


if __name__ == "__main__":
    asyncio.run(run())
