"""Learner events handled per second by the coach service, end to end in the database.

Each event is one transaction: load and lock the learner, run the core, store the new
state, the event log, the inbound key and the outbox rows. Set COACH_BENCH_DATABASE_URL to
measure PostgreSQL too.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

from bot.core.channel import Buttons, Capabilities
from bot.core.events import Inbound, InboundKind, Sender
from bot.core.rules import Rules
from bot.course.holder import CourseHolder
from bot.i18n import Catalogs
from bot.services.coach import CoachService, utc_now
from bot.store.database import create_engine, upgrade
from bot.store.unit_of_work import Store

ROOT = Path(__file__).resolve().parent.parent
LEARNERS = 200
CONCURRENCY = 20


def script(who: str) -> list[Inbound]:
    """One learner's first minute: start, language, first lesson, a few steps."""
    sender = Sender("bench", who, who, language_hint="fr")
    first = Inbound(sender, InboundKind.COMMAND, utc_now(), f"{who}:0", command="start")
    typed = ["2"] + ["1"] * 7  # French, then the first option each time
    return [first] + [
        Inbound(sender, InboundKind.TEXT, utc_now(), f"{who}:{i}", text=value)
        for i, value in enumerate(typed, start=1)
    ]


async def measure(url: str) -> tuple[int, float]:
    engine = create_engine(url)
    await upgrade(engine)
    courses = CourseHolder.load(ROOT / "curriculum")
    catalogs = Catalogs(ROOT / "locales", ["en", "fr", "ar"], "en")
    rules = Rules(catalogs.names())
    service = CoachService(Store(engine), courses, catalogs, rules, default_language="en")
    channel = Capabilities("bench", Buttons.INLINE, pull=True)
    run_id = os.urandom(4).hex()
    queue: asyncio.Queue[list[Inbound]] = asyncio.Queue()
    for index in range(LEARNERS):
        queue.put_nowait(script(f"{run_id}-{index}"))
    handled = 0

    async def worker() -> None:
        nonlocal handled
        while not queue.empty():
            for event in queue.get_nowait():
                await service.handle(event, channel)
                handled += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return handled, elapsed


async def run() -> None:
    print("== service intake: learner events handled end to end (state, log, outbox) ==")
    with tempfile.TemporaryDirectory() as folder:
        targets = [("SQLite", f"sqlite+aiosqlite:///{folder}/bench.db")]
        if os.environ.get("COACH_BENCH_DATABASE_URL"):
            targets.append(("PostgreSQL", os.environ["COACH_BENCH_DATABASE_URL"]))
        for name, url in targets:
            handled, elapsed = await measure(url)
            print(
                f"{name:<11} {handled} events from {LEARNERS} learners, {CONCURRENCY} at once: "
                f"{handled / elapsed:,.0f} events/s ({elapsed * 1000 / handled:.2f} ms each)"
            )
