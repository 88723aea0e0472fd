"""Outbox delivery to WhatsApp within its limits: throughput, pair rate, the 24-hour window.

About two thousand messages are queued in the outbox and drained by the real OutboxSender
through the real WhatsAppDelivery and pywa's async client, against the fake Graph API
keeping Meta's limits: 80 messages a second per business number (130429 beyond), about one
message every 6 s to one learner after a short burst (131056 beyond), and free-form messages
only within 24 hours of the learner's last message (131047 outside; templates at any time).

Most learners wrote today (one message each; some get 3, within the burst; some 5, beyond
it, so two of theirs wait for the pair rate); some have been quiet for two days and get a
reminder (which the coach sends as its template) and, for a few, a volunteer's message too
(which waits, held, until they write; they are told once by the "message waiting" template).

Every message carries a unique token ``m-<n>`` (in its text, or as the template's
parameter); the fake's record of accepted messages gives duplicates and losses (a message
neither accepted nor held for its learner). The baseline beside it is the coach before it
knew WhatsApp's limits: no pair rate, the number counted in the bot's 30 messages a second,
and free text whatever the window.

Set COACH_BENCH_DATABASE_URL (a PostgreSQL server URL) to run on PostgreSQL, as the
Telegram delivery benchmark does; otherwise SQLite files in a temporary folder.

``python -m bench.whatsapp_delivery`` runs this benchmark alone.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.scratch import postgres_server
from bench.telegram_delivery import database
from bot.channels.whatsapp.channel import client
from bot.channels.whatsapp.delivery import WhatsAppDelivery
from bot.channels.whatsapp.errors import THROUGHPUT
from bot.channels.whatsapp.inbound import CHANNEL
from bot.channels.whatsapp.templates import LESSON_WAITING, sent_template
from bot.delivery.limits import Limits, RateLimiter
from bot.delivery.sender import OutboxSender
from bot.services.coach import utc_now
from bot.store.database import create_engine, upgrade
from bot.store.delivery_queue import DeliveryQueue
from bot.store.media import MediaCache
from bot.store.outbox import OutboundMessage
from bot.store.tables import Learner, OutboxRow
from bot.store.unit_of_work import Store
from tests.fakes.whatsapp_graph import PHONE_NUMBER_ID, TOKEN, FakeGraph, fake_graph

ROOT = Path(__file__).resolve().parent.parent
TOKEN_RE = re.compile(r"\bm-(\d+)\b")
PAIR_SECONDS, PAIR_BURST = 6.0, 3  # Meta's pair rate, as the fake keeps it
DEADLINE_SECONDS = 90.0


@dataclass(frozen=True)
class Plan:
    """What is queued: per learner, their messages (token numbers) and whether they wrote
    today; ``held`` the tokens of messages outside the window that are not reminders."""

    chats: dict[str, list[int]]
    quiet: set[str]
    reminders: set[int]
    held: set[int]

    @property
    def total(self) -> int:
        return sum(len(tokens) for tokens in self.chats.values())

    def describe(self) -> str:
        sizes = Counter(len(t) for c, t in self.chats.items() if c not in self.quiet)
        shown = ", ".join(f"{n} × {size}" for size, n in sorted(sizes.items()))
        return (
            f"{self.total} messages to {len(self.chats)} learners: wrote today {shown} msgs; "
            f"quiet for 2 days {len(self.quiet)} × 1 reminder, {len(self.held)} of them also "
            "a volunteer's message"
        )


def make_plan(singles: int = 1000, threes: int = 150, fives: int = 60, quiet: int = 200) -> Plan:
    chats: dict[str, list[int]] = {}
    number = 0
    wa_id = 33_600_000_000

    def add(count: int) -> str:
        nonlocal number, wa_id
        wa_id += 1
        chats[str(wa_id)] = list(range(number, number + count))
        number += count
        return str(wa_id)

    for size, learners in ((1, singles), (3, threes), (5, fives)):
        for _ in range(learners):
            add(size)
    quiet_chats, reminders, held = set(), set(), set()
    for index in range(quiet):
        chat = add(2 if index % 4 == 0 else 1)
        quiet_chats.add(chat)
        reminders.add(chats[chat][0])
        held.update(chats[chat][1:])
    return Plan(chats, quiet_chats, reminders, held)


async def fill(url: str, plan: Plan) -> None:
    """The learners (with when they last wrote) and their messages, due now, in an order
    that mixes the learners as replies and reminders arrive."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        now = utc_now()
        async with Store(engine).unit_of_work() as uow:
            for chat in plan.chats:
                seen = now - timedelta(days=2) if chat in plan.quiet else now
                uow.session.add(learner(chat, seen))
            order = [(n, chat) for chat, tokens in plan.chats.items() for n in tokens]
            random.Random(7).shuffle(order)
            uow.session.add_all(row(n, chat, n in plan.reminders, now) for n, chat in order)
    finally:
        await engine.dispose()


def learner(chat: str, seen: datetime) -> Learner:
    return Learner(
        channel=CHANNEL.name,
        chat_id=chat,
        user_id=chat,
        language="en",
        timezone="Europe/Paris",
        created_at=seen,
        last_seen_at=seen,
        choices=[],
        reviews=[],
    )


def row(n: int, chat: str, reminder: bool, now: datetime) -> OutboxRow:
    media = {"template": sent_template(LESSON_WAITING, "en", [f"m-{n}"])} if reminder else None
    text = f"Your lesson m-{n} is waiting" if reminder else f"Lesson step m-{n}: tap Next."
    return OutboxRow(
        channel=CHANNEL.name,
        chat_id=chat,
        text=text,
        buttons=[],
        media=media,
        language="en",
        dedupe_key=f"bench:m-{n}",
        status="pending",
        not_before=now,
        attempts=0,
        created_at=now,
    )


class FreeTextAlways(WhatsAppDelivery):
    """The delivery before the 24-hour window: free text whatever the window."""

    async def _deliver_in_window(self, message: OutboundMessage) -> str | None:
        return await self._deliver(message)


@dataclass
class Figures:
    accepted: int = 0
    elapsed: float = 0.0
    steady: float = 0.0
    duplicates: int = 0
    losses: int = 0
    held: int = 0
    templates: int = 0
    outside_window: int = 0
    refused: dict[int, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)


def tally(graph: FakeGraph, plan: Plan, held: int, started: float) -> Figures:
    counts: Counter[int] = Counter()
    first: dict[int, float] = {}
    for sent in graph.sent:
        found = TOKEN_RE.search(" ".join([sent.body or "", *sent.params]))
        if found is None:
            continue
        number = int(found.group(1))
        counts[number] += 1
        first.setdefault(number, sent.at)
    times = sorted(first.values())
    low, high = len(times) // 10, len(times) * 9 // 10
    span = times[high] - times[low] if len(times) >= 10 else 0.0
    return Figures(
        accepted=len(counts),
        elapsed=(times[-1] - started) if times else 0.0,
        steady=(high - low) / span if span > 0 else 0.0,
        duplicates=sum(count - 1 for count in counts.values() if count > 1),
        losses=plan.total - len(counts) - held,
        held=held,
        templates=sum(1 for sent in graph.sent if sent.type == "template"),
        outside_window=graph.outside_window,
        refused=dict(graph.refused),
    )


async def one_run(folder: str, name: str, plan: Plan, *, baseline: bool) -> Figures:
    async with database(folder, name) as url:
        await fill(url, plan)
        return await drain(url, plan, baseline=baseline)


async def drain(url: str, plan: Plan, *, baseline: bool) -> Figures:
    engine = create_engine(url)
    store = Store(engine)
    async with fake_graph() as graph:
        graph.throughput, graph.pair_rate = THROUGHPUT, (PAIR_SECONDS, PAIR_BURST)
        now = utc_now()
        for chat in plan.chats:  # when each learner last wrote, as WhatsApp knows it
            graph.last_inbound[chat] = now - timedelta(days=2) if chat in plan.quiet else now
        wa, http = client(TOKEN, PHONE_NUMBER_ID, graph.base_url)
        kind = FreeTextAlways if baseline else WhatsAppDelivery
        delivery = kind(wa, MediaCache(store), ROOT / "curriculum", utc_now)
        limiter = RateLimiter(Limits(), time.monotonic)
        sender = OutboxSender(DeliveryQueue(store), {CHANNEL.name: delivery}, limiter, utc_now)
        sender.idle_seconds = 0.2
        if baseline:  # the sender before it knew WhatsApp: Telegram's limits for everyone
            sender.chat_rates, sender.channel_totals = {}, {}
        loop = asyncio.get_running_loop()
        started = loop.time()
        task = asyncio.create_task(sender.run())
        try:
            while loop.time() - started < DEADLINE_SECONDS:
                await asyncio.sleep(0.5)
                if not await open_rows(store):
                    break
        finally:
            sender.stop()
            await task
            await http.aclose()
        statuses = await status_counts(store)
        figures = tally(graph, plan, statuses.get("held", 0), started)
        figures.statuses = statuses
    await engine.dispose()
    return figures


async def open_rows(store: Store) -> int:
    async with store.unit_of_work() as uow:
        query = select(func.count()).where(OutboxRow.status.in_(("pending", "sending")))
        return int(await uow.session.scalar(query) or 0)


async def status_counts(store: Store) -> dict[str, int]:
    async with store.unit_of_work() as uow:
        rows = await uow.session.execute(
            select(OutboxRow.status, func.count()).group_by(OutboxRow.status)
        )
        return {status: int(count) for status, count in rows.all()}


def report(plan: Plan, coach: Figures, before: Figures) -> None:
    def line(label: str, ours: Any, theirs: Any, goal: str = "") -> None:
        print(f"  {label:<30} {ours!s:<22} {theirs!s:<22} {goal}")

    def share(figures: Figures) -> str:
        return f"{figures.steady:.1f}/s = {figures.steady / THROUGHPUT:.0%}"

    line("", "coach", "baseline")
    line("messages accepted", f"{coach.accepted} of {plan.total}", before.accepted)
    line("elapsed (to the last accepted)", f"{coach.elapsed:.1f} s", f"{before.elapsed:.1f} s")
    line(
        "steady rate, share of 80/s",
        share(coach),
        share(before),
        "(middle 80 % of the messages; goal ≥ 95 % while learners wait)",
    )
    for code, what in ((131056, "pair rate"), (130429, "throughput"), (131047, "window")):
        line(
            f"{code} answers ({what})",
            coach.refused.get(code, 0),
            before.refused.get(code, 0),
            "(goal 0)",
        )
    line("free text outside the window", coach.outside_window, before.outside_window, "(goal 0)")
    line("templates sent", coach.templates, before.templates)
    line("held until the learner writes", coach.held, before.held)
    line("duplicates", coach.duplicates, before.duplicates, "(goal 0)")
    line("losses", coach.losses, before.losses, "(goal 0; held messages are not lost)")
    line("outbox rows at the end", coach.statuses, "")
    line("", "", before.statuses)


async def run() -> None:
    print(
        "== whatsapp delivery: outbox → OutboxSender → pywa → fake Graph API "
        f"({THROUGHPUT}/s per number, 1 per {PAIR_SECONDS:.0f} s per learner after "
        f"{PAIR_BURST}, 24-hour window) =="
    )
    plan = make_plan()
    engine = "PostgreSQL" if postgres_server() else "SQLite"
    print(f"-- {plan.describe()}; {engine}")
    quiet = logging.getLogger("bot")  # the baseline's refusals, counted below, not printed
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        with tempfile.TemporaryDirectory() as folder:
            coach = await one_run(folder, "coach", plan, baseline=False)
            before = await one_run(folder, "baseline", plan, baseline=True)
    finally:
        quiet.setLevel(level)
    report(plan, coach, before)


if __name__ == "__main__":
    asyncio.run(run())
