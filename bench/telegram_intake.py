"""Learner updates handled per second through Telegram, end to end, beside two baselines.

Every bot polls the same fake Bot API server (getUpdates long polling) in the same run, one
after the other, each with its own 200 learners × 5 updates queued up front (the k-th
update of every learner before anyone's (k+1)-th, as people take turns). Flood control is
off in the fake and the coach's limits are very high: this measures the processing, not
Telegram's limits.

- echo: an aiogram Dispatcher with one handler, ``message.answer(message.text)``.
- no-database bot (the fair baseline): an aiogram Dispatcher that does what the coach does
  without a database. Each update is dumped to the Bot API's JSON and made a core event
  (``bot.channels.telegram.inbound.message_event``, as the coach does); the learner's state
  is kept in a dict in memory; the coach's pure core (``bot.core.turn.step`` with the
  shipped curriculum, the coach's rules, catalogs and Telegram's data cost, then
  ``due_at``) decides the replies; ``bot.services.rendering.Renderer`` renders them; they
  are sent at once through the coach's ``TelegramDelivery`` (file ids kept in memory).
  aiogram handles the updates of one getUpdates answer side by side (its default), one
  learner's in order.
- coach: the whole coach (``build`` + ``running``) with the shipped curriculum, on a
  temporary SQLite database, and on PostgreSQL when COACH_BENCH_DATABASE_URL (or
  COACH_TEST_DATABASE_URL) names a server (a scratch database is created there and dropped).
  Each update becomes a core event; the learner's state, event log, inbound key and
  outbox rows are stored in one transaction; the replies go out through the outbox sender.

Time runs from the first getUpdates answer to the last reply accepted by the fake, once
every learner got all replies (echo: 5 each; no-database bot: every update handled and
its replies sent; coach: every update handled and the outbox empty). Each baseline runs
``ROUNDS`` times and its median is shown. For the coach, every SQL statement its engine
runs during the phase is counted (the sender's too).

``python -m bench.telegram_intake [--json] [--profile FILE]``: ``--profile`` runs the coach
on SQLite under cProfile, writes the profile to FILE and prints where the time went.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import os
import pstats
import re
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aiogram import Dispatcher, Router
from aiogram.types import Message, TelegramObject, Update
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench.scratch import (
    code_version,
    figures_out,
    migrated,
    postgres_server,
    rounded,
    scratch_postgres,
)
from bot.app import build, core_rules, running
from bot.channels.telegram.aiogram_library import AiogramCalls
from bot.channels.telegram.delivery import TelegramDelivery
from bot.channels.telegram.inbound import CHANNEL, BotUser, message_event
from bot.channels.telegram.runtime import make_bot
from bot.config import Settings
from bot.core.channel import Destination
from bot.core.effects import Reply
from bot.core.reminders import due_at
from bot.core.state import LearnerState
from bot.core.turn import HELP_START, step
from bot.course.holder import CourseHolder
from bot.i18n import Catalogs
from bot.services.coach import EVENTS_TASK, utc_now
from bot.services.rendering import Renderer
from bot.services.transfers import transfer_of
from bot.services.volunteer_desk import LOOKUPS_TASK
from bot.store.media import MediaCache
from bot.store.outbox import OutboundMessage
from bot.store.tables import InboundKey, OutboxRow
from tests.fakes import FakeTelegram, FakeUser, FloodLimits, fake_telegram

ROOT = Path(__file__).resolve().parent.parent
LEARNERS = 200
SCRIPT = ["/start", "2", "1", "1", "1"]  # start, French, then the first option each time
REPLY_METHODS = frozenset({"sendmessage", "editmessagetext", "sendphoto", "sendvoice", "sendaudio"})
ROUNDS = 3
ENGINES = ("sqlite", "postgresql")
WITHIN = 120.0  # seconds a phase may take before it is reported as unfinished
POLLING_TASK = "telegram polling"  # bot/channels/telegram/polling.py names its task so
INTAKE_TASKS = (POLLING_TASK, EVENTS_TASK, LOOKUPS_TASK)
VERB = re.compile(r"^\s*(\w+)(?:\s+(?:INTO|FROM)?\s*(\w+))?", re.IGNORECASE)


@dataclass(frozen=True)
class Phase:
    updates: int
    replies: int
    elapsed: float
    finished: bool
    stored: float | None = None  # seconds until every update was stored (coach only)
    statements: Counter[str] = field(default_factory=Counter)  # SQL run (coach only)

    @property
    def rate(self) -> float:
        return self.updates / self.elapsed if self.elapsed > 0 else 0.0

    def figures(self) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "updates": self.updates,
            "replies": self.replies,
            "seconds": rounded(self.elapsed),
            "updates_per_second": rounded(self.rate, 1),
            "finished": self.finished,
        }
        if self.stored is not None:
            shown["all_stored_after_seconds"] = rounded(self.stored)
        if self.statements:
            shown["sql_per_update"] = {name: self.sql(name) for name in ("intake", "sender")}
        return shown

    def sql(self, name: str) -> dict[str, Any]:
        """Transactions and statements per update of one part (``intake``, ``sender``)."""
        per = max(self.updates, 1)
        mine = {k.split(":", 1)[1]: v for k, v in self.statements.items() if k.startswith(name)}
        transactions = mine.pop("transaction", 0)
        return {
            "transactions": rounded(transactions / per, 2),
            "statements": rounded(sum(mine.values()) / per, 2),
            "by_kind": {k: rounded(v / per, 2) for k, v in Counter(mine).most_common()},
        }


def queue_updates(tg: FakeTelegram, first_id: int) -> list[FakeUser]:
    learners = [
        tg.user(first_id + index, f"Learner {index}", language_code="fr")
        for index in range(LEARNERS)
    ]
    for script_step in SCRIPT:
        for learner in learners:
            if script_step.startswith("/"):
                tg.send_command(learner, script_step)
            else:
                tg.send_text(learner, script_step)
    return learners


async def wait_for(condition: Callable[[], Awaitable[bool]], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await condition():
            return True
        await asyncio.sleep(0.05)
    return await condition()


def measured(
    tg: FakeTelegram,
    mark: int,
    finished: bool,
    stored_at: float | None = None,
    statements: Counter[str] | None = None,
) -> Phase:
    """Figures from the fake's call log, from call number ``mark`` on."""
    calls = tg.state.calls[mark:]
    polls = [c.at for c in calls if c.method.lower() == "getupdates" and c.ok and c.response]
    replies = [c.at for c in calls if c.method.lower() in REPLY_METHODS and c.ok]
    elapsed = max(replies) - min(polls) if polls and replies else 0.0
    updates = sum(len(c.response.get("result", [])) for c in calls if c.method == "getUpdates")
    stored = stored_at - min(polls) if stored_at is not None and polls else None
    return Phase(
        min(updates, LEARNERS * len(SCRIPT)),
        len(replies),
        elapsed,
        finished,
        stored,
        statements or Counter(),
    )


async def polled(
    tg: FakeTelegram, dispatcher: Dispatcher, done: Callable[[], Awaitable[bool]]
) -> tuple[int, bool]:
    """Run ``dispatcher`` on a new bot until ``done``; the call mark and whether it finished."""
    bot = make_bot(tg.token, tg.base_url)
    mark = len(tg.state.calls)
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    try:
        finished = await wait_for(done, WITHIN)
    finally:
        with contextlib.suppress(RuntimeError):
            await dispatcher.stop_polling()
        await polling
        await bot.session.close()
    tg.take_updates()
    return mark, finished


async def echo_phase(tg: FakeTelegram, first_id: int) -> Phase:
    learners = queue_updates(tg, first_id)
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "…")

    async def answered() -> bool:
        return all(len(tg.sent(learner)) >= len(SCRIPT) for learner in learners)

    mark, finished = await polled(tg, dispatcher, answered)
    return measured(tg, mark, finished)


class MemoryMedia(MediaCache):
    """The file ids of lesson media uploaded once, kept in memory instead of the database."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, str, int], str] = {}

    async def file_id(self, channel: str, path: str, size: int) -> str | None:
        return self.ids.get((channel, path, size))

    async def remember(
        self,
        channel: str,
        path: str,
        size: int,
        file_id: str,
        now: datetime,
        kept_size: int | None = None,
    ) -> None:
        self.ids[(channel, path, size)] = file_id


@dataclass
class Learner:
    state: LearnerState
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_nudge: datetime | None = None


class NoDatabaseBot:
    """The coach's work on one update, less the database: core, rendering, sending."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.courses = CourseHolder.load(settings.curriculum_path)
        self.catalogs = Catalogs(
            settings.locales_path, settings.languages, settings.fallback_language
        )
        self.rules = core_rules(settings, self.catalogs)
        self.renderer = Renderer(self.catalogs, CHANNEL)
        self.transfer = transfer_of(CHANNEL, {})
        self.learners: dict[str, Learner] = {}
        self.handled = 0
        self.me = BotUser(0)
        self.help_link: str | None = None
        self.delivery: TelegramDelivery | None = None

    def dispatcher(self) -> Dispatcher:
        dispatcher = Dispatcher()
        router = Router(name="no-database")
        router.message.register(self.on_update)
        dispatcher.include_router(router)
        dispatcher.startup.register(self.on_startup)
        return dispatcher

    async def on_startup(self, bot: Any) -> None:
        me = await bot.me()
        self.me = BotUser(me.id, me.username)
        self.help_link = f"https://t.me/{me.username}?start={HELP_START}" if me.username else None
        self.delivery = TelegramDelivery(
            AiogramCalls(bot), MemoryMedia(), self.settings.curriculum_path, utc_now
        )

    async def on_update(self, _: TelegramObject, event_update: Update) -> None:
        dumped = event_update.model_dump(mode="json", exclude_none=True, by_alias=True)
        inbound = message_event(dumped["message"], self.me, utc_now())
        if inbound is None:
            return
        sender = inbound.sender
        learner = self.learners.get(sender.chat_id)
        if learner is None:
            start = LearnerState(
                first_name=sender.first_name,
                timezone=self.rules.timezones[0],
                seed=len(self.learners) + 1,
            )
            learner = self.learners[sender.chat_id] = Learner(start)
        async with learner.lock:  # one learner's updates in order, as the coach's are
            now = utc_now()
            after, effects = step(
                learner.state,
                inbound,
                self.courses.course,
                now,
                self.rules,
                help_link=self.help_link,
                transfer=self.transfer,
            )
            learner.next_nudge = due_at(after, self.rules, now, sender.group)
            learner.state = after
            language = after.language or self.catalogs.best_match(
                sender.language_hint, self.settings.default_language
            )
            replies = [effect for effect in effects if isinstance(effect, Reply)]
            rows = self.renderer.rows(replies, Destination.of(inbound, 0), language, now)
            assert self.delivery is not None
            for number, row in enumerate(rows):
                row.id = number  # never written: numbered as an outbox would
                await self.delivery.deliver(OutboundMessage.of(row))
        self.handled += 1


async def nodb_phase(tg: FakeTelegram, first_id: int) -> Phase:
    queue_updates(tg, first_id)
    bot = NoDatabaseBot(Settings(_env_file=None, telegram_token=tg.token))
    expected = LEARNERS * len(SCRIPT)

    async def handled() -> bool:
        return bot.handled >= expected

    mark, finished = await polled(tg, bot.dispatcher(), handled)
    return measured(tg, mark, finished)


def part() -> str:
    """Which part of the coach runs now: the intake (the polling task, and the tasks that
    handle the updates it passes on in batches) or the rest (the sender)."""
    with contextlib.suppress(RuntimeError):
        task = asyncio.current_task()
        if task is not None and task.get_name().startswith(INTAKE_TASKS):
            return "intake"
    return "sender"


def counting(engine: AsyncEngine, counts: Counter[str]) -> None:
    """Count every SQL statement the engine runs, by part, verb and table: ``intake:SELECT
    learners``, ``sender:UPDATE outbox``, ``intake:transaction``..."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        found = VERB.match(statement)
        verb = found.group(1).upper() if found else "?"
        table = found.group(2) if found and found.group(2) else ""
        if verb in ("SELECT", "WITH"):
            tables = re.search(r"\bFROM\s+(\w+)", statement, re.IGNORECASE)
            table = tables.group(1) if tables else ""
        counts[f"{part()}:{verb} {table}".strip()] += 1

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(_conn: Any) -> None:
        counts[f"{part()}:transaction"] += 1


async def coach_phase(tg: FakeTelegram, url: str, first_id: int) -> Phase:
    await migrated(url)
    queue_updates(tg, first_id)
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
    statements: Counter[str] = Counter()
    counting(coach.store.engine, statements)
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
            counted = Counter(statements)
    finally:
        await monitor.dispose()
    return measured(tg, mark, finished, stored_at, counted)


def median(phases: list[Phase]) -> Phase:
    return sorted(phases, key=lambda phase: phase.rate)[len(phases) // 2]


def line(name: str, phase: Phase) -> str:
    note = "" if phase.finished else f"  (unfinished after {WITHIN:.0f} s)"
    return (
        f"{name:<17} {phase.updates} updates in {phase.elapsed:.2f} s: "
        f"{phase.rate:,.0f} updates/s, {phase.replies} replies "
        f"({phase.replies / max(phase.updates, 1):.1f} per update){note}"
    )


async def measure(
    profile: Path | None = None, coach_only: bool = False, engines: tuple[str, ...] = ENGINES
) -> dict[str, Any]:
    """``coach_only``: without the baselines (for a profiler, say)."""
    server = postgres_server() if "postgresql" in engines else None
    rounds = 0 if coach_only else ROUNDS
    print("== telegram intake: updates in by long polling, handled, replies accepted ==")
    print(
        f"{LEARNERS} learners × {len(SCRIPT)} updates ({' '.join(SCRIPT)}) queued up front "
        f"per bot; echo bot and no-database bot {ROUNDS} rounds each (median shown), then the "
        f"coach on SQLite{' and PostgreSQL' if server else ''}; fake flood control off; "
        "coach limits unlimited"
    )
    first_ids = iter(range(20_000_001, 90_000_000, LEARNERS))
    coaches: dict[str, Phase] = {}
    with tempfile.TemporaryDirectory(prefix="coach-bench-") as folder:
        async with fake_telegram(limits=FloodLimits.off()) as tg:
            echoes, nodbs = [], []
            for _ in range(rounds):  # interleaved, so a busy moment does not hit one alone
                echoes.append(await echo_phase(tg, next(first_ids)))
                nodbs.append(await nodb_phase(tg, next(first_ids)))
            profiler = cProfile.Profile() if profile else None
            if profiler:
                profiler.enable()
            if "sqlite" in engines:
                coaches["sqlite"] = await coach_phase(
                    tg, f"sqlite+aiosqlite:///{folder}/intake.db", next(first_ids)
                )
            if profiler:
                profiler.disable()
            if server:
                async with scratch_postgres(server, "coach_intake") as url:
                    coaches["postgresql"] = await coach_phase(tg, url, next(first_ids))
    empty = Phase(0, 0, 0.0, False)
    echo, nodb = (median(echoes), median(nodbs)) if echoes else (empty, empty)
    load = os.getloadavg()
    if echoes:
        print(line("echo bot", echo))
        print(line("no-database bot", nodb))
    for engine, phase in coaches.items():
        print(line(f"coach, {engine}", phase))
    print(f"echo runs          {', '.join(f'{p.rate:,.0f}' for p in echoes)} updates/s")
    print(f"no-database runs   {', '.join(f'{p.rate:,.0f}' for p in nodbs)} updates/s")
    print(f"load average at the end: {load[0]:.1f} (1 min), {load[1]:.1f} (5 min)")
    version = await asyncio.to_thread(code_version)
    print(f"coach code: {version}")
    figures: dict[str, Any] = {
        "code": version,
        "load_average": [rounded(value, 2) for value in load[:2]],
        "learners": LEARNERS,
        "updates_per_learner": len(SCRIPT),
        "echo": echo.figures() | {"rounds": [rounded(p.rate, 1) for p in echoes]},
        "no_database": nodb.figures() | {"rounds": [rounded(p.rate, 1) for p in nodbs]},
        "coach": {},
    }
    for engine, phase in coaches.items():
        if phase.stored is not None:
            print(
                f"coach, {engine:<10} every update stored {phase.stored:.2f} s after the first "
                f"getUpdates ({phase.updates / phase.stored:,.0f} updates/s); last reply "
                f"accepted at {phase.elapsed:.2f} s"
            )
        for name in ("intake", "sender"):
            sql = phase.sql(name)
            kinds = ", ".join(f"{k} {v:.1f}" for k, v in list(sql["by_kind"].items())[:7])
            print(
                f"coach, {engine:<10} SQL per update, {name}: {sql['transactions']:.1f} "
                f"transactions, {sql['statements']:.1f} statements ({kinds})"
            )
        ratios: dict[str, float] = {}
        if nodb.rate and echo.rate:
            ratios = {
                "coach_per_no_database": rounded(phase.rate / nodb.rate),
                "coach_per_echo": rounded(phase.rate / echo.rate),
            }
            print(
                f"ratio, {engine:<10} coach / no-database bot = "
                f"{ratios['coach_per_no_database']:.3f} (goal ≥ 0.5); coach / echo = "
                f"{ratios['coach_per_echo']:.3f}"
            )
        figures["coach"][engine] = phase.figures() | ratios
    if profiler and profile:
        profiler.dump_stats(profile)
        print_profile(profile)
    return figures


def print_profile(path: Path, lines: int = 30) -> None:
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(lines)
    stats.sort_stats("cumulative").print_stats(lines)
    print(f"-- where the coach's time went (cProfile of the SQLite phase, saved in {path})")
    print(out.getvalue())


async def run() -> dict[str, Any]:
    return await measure()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.telegram_intake", description=__doc__)
    parser.add_argument("--json", action="store_true", help="the figures as JSON on stdout")
    parser.add_argument("--profile", type=Path, help="profile the coach's SQLite phase to FILE")
    parser.add_argument("--coach-only", action="store_true", help="without the baselines")
    parser.add_argument("--engine", choices=ENGINES, action="append", help="this database only")
    arguments = parser.parse_args()
    engines = tuple(arguments.engine or ENGINES)
    with figures_out(arguments.json) as give:
        give(asyncio.run(measure(arguments.profile, arguments.coach_only, engines)))


if __name__ == "__main__":
    main()
