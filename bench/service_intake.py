"""Learner events handled per second by the coach service, end to end in the database.

Twenty learners send at once, as the channels pass events on: what arrives while a batch
is written goes together in the next transaction (group commit), which loads and locks the
batch's learners, runs the core for each, and stores the new states, the event log, the
inbound keys and the outbox rows. Set COACH_BENCH_DATABASE_URL to measure PostgreSQL too.

``python -m bench.service_intake --sqlite-pragmas`` compares, in one run, SQLite as it
was (synchronous=FULL, the process's writers polling in SQLite's busy handler) with
SQLite as it is (synchronous=NORMAL, writers queued on one lock), and each change alone;
``--rounds N`` repeats the comparison, interleaved, and prints each setting's median.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import event

from bot.core.channel import Buttons, Capabilities
from bot.core.events import Inbound, InboundKind, Sender
from bot.core.rules import Rules
from bot.course.holder import CourseHolder
from bot.i18n import Catalogs
from bot.services.coach import CoachService, Unavailable, utc_now
from bot.store.database import SQLiteWrites, create_engine, upgrade
from bot.store.sealed import keyring, use_data_keys
from bot.store.unit_of_work import Store

ROOT = Path(__file__).resolve().parent.parent
LEARNERS = 200
CONCURRENCY = 20
SETTINGS = {
    "before: FULL, busy handler": SQLiteWrites("FULL", one_writer=False),
    "FULL, one writer": SQLiteWrites("FULL", one_writer=True),
    "NORMAL, busy handler": SQLiteWrites("NORMAL", one_writer=False),
    "now: NORMAL, one writer": SQLiteWrites("NORMAL", one_writer=True),
}


@dataclass
class Figures:
    handled: int = 0
    failed: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    begins: list[float] = field(default_factory=list)  # seconds in BEGIN IMMEDIATE

    @property
    def per_second(self) -> float:
        return self.handled / self.elapsed if self.elapsed else 0.0

    def line(self) -> str:
        ordered = sorted(self.latencies) or [0.0]
        p95 = ordered[int(len(ordered) * 0.95) - 1 if len(ordered) > 1 else 0]
        waits = (
            f", BEGIN IMMEDIATE {statistics.fmean(self.begins) * 1000:.1f} ms on average "
            f"(longest {max(self.begins) * 1000:.0f} ms)"
            if self.begins
            else ""
        )
        return (
            f"{self.per_second:,.0f} events/s, {self.failed} unavailable; per event "
            f"median {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms{waits}"
        )


def script(who: str) -> list[Inbound]:
    """One learner's first minute: start, language, first lesson, a few steps."""
    sender = Sender("bench", who, who, language_hint="fr")
    first = Inbound(sender, InboundKind.COMMAND, utc_now(), f"{who}:0", command="start")
    typed = ["2"] + ["1"] * 7  # French, then the first option each time
    return [first] + [
        Inbound(sender, InboundKind.TEXT, utc_now(), f"{who}:{i}", text=value)
        for i, value in enumerate(typed, start=1)
    ]


def timing_begins(engine: Any, figures: Figures) -> None:
    """How long each BEGIN IMMEDIATE waited for SQLite's write lock."""
    started: dict[int, float] = {}

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _before(_conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement == "BEGIN IMMEDIATE":
            started[id(cursor)] = time.perf_counter()

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _after(_conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement == "BEGIN IMMEDIATE" and id(cursor) in started:
            figures.begins.append(time.perf_counter() - started.pop(id(cursor)))


async def measure(url: str, writes: SQLiteWrites | None = None) -> Figures:
    engine = create_engine(url, writes=writes or SQLiteWrites())
    await upgrade(engine)
    figures = Figures()
    if engine.dialect.name == "sqlite":
        timing_begins(engine, figures)
    courses = CourseHolder.load(ROOT / "curriculum")
    catalogs = Catalogs(ROOT / "locales", ["en", "fr", "ar"], "en")
    rules = Rules(catalogs.names())
    service = CoachService(Store(engine), courses, catalogs, rules, default_language="en")
    channel = Capabilities("bench", Buttons.INLINE, pull=True)
    run_id = os.urandom(4).hex()
    queue: asyncio.Queue[list[Inbound]] = asyncio.Queue()
    for index in range(LEARNERS):
        queue.put_nowait(script(f"{run_id}-{index}"))

    async def worker() -> None:
        while not queue.empty():
            for inbound in queue.get_nowait():
                began = time.perf_counter()
                try:
                    await service.handle(inbound, channel)
                except Unavailable:
                    figures.failed += 1
                    continue
                figures.latencies.append(time.perf_counter() - began)
                figures.handled += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    figures.elapsed = time.perf_counter() - started
    await engine.dispose()
    return figures


def with_a_data_key() -> None:
    """Requests' texts are sealed: a key of this run unless COACH_DATA_KEYS gave one."""
    if not keyring():
        keys = [key for key in os.environ.get("COACH_DATA_KEYS", "").split(",") if key]
        use_data_keys(keys or [Fernet.generate_key()])


async def run() -> None:
    print("== service intake: learner events handled end to end (state, log, outbox) ==")
    with_a_data_key()
    with tempfile.TemporaryDirectory() as folder:
        targets = [("SQLite", f"sqlite+aiosqlite:///{folder}/bench.db")]
        if os.environ.get("COACH_BENCH_DATABASE_URL"):
            targets.append(("PostgreSQL", os.environ["COACH_BENCH_DATABASE_URL"]))
        for name, url in targets:
            figures = await measure(url)
            print(
                f"{name:<11} {figures.handled} events from {LEARNERS} learners, "
                f"{CONCURRENCY} at once: {figures.line()}"
            )


async def compare_sqlite(rounds: int) -> None:
    """Each setting on a new database file, the settings interleaved round after round."""
    print(f"== service intake on SQLite: {LEARNERS} learners, {CONCURRENCY} at once ==")
    with_a_data_key()
    results: dict[str, list[Figures]] = {name: [] for name in SETTINGS}
    with tempfile.TemporaryDirectory() as folder:
        for round_number in range(rounds):
            for index, (name, writes) in enumerate(SETTINGS.items()):
                url = f"sqlite+aiosqlite:///{folder}/bench-{round_number}-{index}.db"
                figures = await measure(url, writes)
                results[name].append(figures)
                print(f"  round {round_number + 1} {name:<27} {figures.line()}")
    print("median of the rounds:")
    for name, runs in results.items():
        middle = sorted(runs, key=lambda figures: figures.per_second)[len(runs) // 2]
        print(f"  {name:<27} {middle.line()}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.service_intake", description=__doc__)
    parser.add_argument(
        "--sqlite-pragmas",
        action="store_true",
        help="compare SQLite's settings before and now (synchronous, writer lock)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="rounds of the comparison")
    arguments = parser.parse_args()
    if arguments.sqlite_pragmas:
        asyncio.run(compare_sqlite(max(1, arguments.rounds)))
    else:
        asyncio.run(run())


if __name__ == "__main__":
    main()
