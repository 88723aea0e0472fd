"""Outbox delivery to Telegram within its limits: rate, 429s, duplicates, losses, order.

A few thousand messages are queued in the outbox (most to private chats, some to groups,
several messages to some chats) and drained by the real OutboxSender through the real
TelegramDelivery and aiogram Bot, against the fake Bot API server enforcing Telegram's
default limits (30 messages/s in all, 20/min per group, 1/s per private chat with a
burst of 3). Then the same with the sender in a child process that is killed (SIGKILL)
or stopped (SIGTERM) half way and started again. The fake always runs in this process,
so it sees the traffic of every sender process.

Every message carries a unique token ``m-<n>``; the fake's record of accepted
``sendMessage`` calls gives duplicates (a token accepted twice), losses (never accepted)
and order violations (a chat getting a message after a later one of the same chat).

A sender process claims whole chats with a lease; what a killed process had claimed is
sent again only once the lease has run out and the outbox sweep has run. The coach uses
a 120 s lease and a 30 s sweep (``bot.app.build`` has no setting for the lease); the
restart runs use 15 s and 3 s to stay short, and print how long those messages would
wait with the coach's values. A process stopped with SIGTERM finishes what it claimed.

Set COACH_BENCH_DATABASE_URL (or, as for the other benchmarks, COACH_TEST_DATABASE_URL: a
PostgreSQL server URL) to run on PostgreSQL: a temporary database is created on that
server for each run and dropped after. Otherwise SQLite files in a temporary folder.

Then 3 sender processes at once on one PostgreSQL database and one fake (flood control on),
each as ``coach run`` has it: its sender runs only while the process is elected
(``bot/services/leader.py``: a PostgreSQL advisory lock; the others ask again every
``COACH_LEADER_RETRY_SECONDS``), beside the outbox sweep. Reported as above, with how many
processes sent and how many messages each claimed. The share of the limit runs from the
first message accepted (a process takes seconds to import its libraries, a minute on a
busy machine). On SQLite every process leads, so this run needs PostgreSQL.

``python -m bench.telegram_delivery [--json]`` runs this benchmark alone;
``--processes [--messages N]`` only the runs with 1 and with 3 elected sender processes;
``python -m bench.telegram_delivery --child ...`` is the sender process it starts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import re
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from bench.scratch import code_version, figures_out, postgres_server, scratch_postgres
from bot.app import stop_sender
from bot.channels.telegram.aiogram_library import AiogramCalls
from bot.channels.telegram.delivery import TelegramDelivery
from bot.channels.telegram.inbound import CHANNEL
from bot.channels.telegram.runtime import make_bot
from bot.config import Settings
from bot.delivery.limits import Limits, RateLimiter
from bot.delivery.sender import OutboxSender
from bot.services.coach import utc_now
from bot.services.leader import Election
from bot.store.database import create_engine, upgrade
from bot.store.delivery_queue import DeliveryQueue
from bot.store.media import MediaCache
from bot.store.outbox import OutboundMessage
from bot.store.tables import OutboxRow
from bot.store.unit_of_work import Store
from scheduler.jobs import sweep_outbox
from tests.fakes import FakeTelegram, fake_telegram

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(r"\bm-(\d+)\b")
LIMIT_PER_SECOND = 30  # Telegram's limit for a bot, all chats together

PLAIN_MESSAGES = 2400
RESTART_MESSAGES = 1200
# The coach claims with a 2-minute lease and sweeps every 30 s; a message a killed process
# had claimed waits for both. The restart runs use these shorter values to stay short.
BENCH_LEASE_SECONDS = 15.0
BENCH_SWEEP_SECONDS = 3.0
COACH_LEASE_SECONDS = 120.0
COACH_SWEEP_SECONDS = 30.0
STARTING_SECONDS = 120.0  # what a new sender process may take to start on a busy machine


# What to send.


@dataclass(frozen=True)
class Plan:
    """chats[n] is the chat of message n (token m-<n>), in the order they are queued."""

    chats: list[int]
    private_single: int
    private_multi: dict[int, int]  # messages per chat -> number of such chats
    groups: int
    group_size: int

    def describe(self) -> str:
        multi = ", ".join(f"{n} × {size} msgs" for size, n in sorted(self.private_multi.items()))
        return (
            f"{len(self.chats)} messages to {len(set(self.chats))} chats: "
            f"{self.private_single} private chats × 1 msg, private {multi}, "
            f"{self.groups} groups × {self.group_size} msgs"
        )


def make_plan(total: int, seed: int = 7) -> Plan:
    """Most messages to private chats with one each; 10 % to groups of 5 messages; 10 % to
    private chats with 3 (within the burst) and 5 % with 5 (beyond it); shuffled."""
    group_size = 5
    groups = total // 10 // group_size
    multi = {3: total // 10 // 3, 5: total // 20 // 5}
    single = total - groups * group_size - sum(size * n for size, n in multi.items())
    chats: list[int] = []
    private = 10_000_001
    for _ in range(single):
        chats.append(private)
        private += 1
    for size, count in multi.items():
        for _ in range(count):
            chats.extend([private] * size)
            private += 1
    for index in range(groups):
        chats.extend([-1_000_000_001 - index] * group_size)
    random.Random(seed).shuffle(chats)
    return Plan(chats, single, multi, groups, group_size)


async def fill(url: str, plan: Plan) -> None:
    """A migrated database with the plan's messages pending in the outbox, due now."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        store = Store(engine)
        now = utc_now()
        async with store.unit_of_work() as uow:
            uow.session.add_all(
                OutboxRow(
                    channel=CHANNEL.name,
                    chat_id=str(chat),
                    text=f"Lesson reminder m-{n}: open the app and tap Continue.",
                    buttons=[],
                    media=None,
                    tag=None,
                    language="en",
                    dedupe_key=f"bench:m-{n}",
                    status="pending",
                    not_before=now,
                    attempts=0,
                    created_at=now,
                )
                for n, chat in enumerate(plan.chats)
            )
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Open:
    """A message not marked sent."""

    status: str
    claimed_until: datetime | None


class Monitor:
    """Reads the outbox while senders work (a plain engine: no SQLite write lock taken)."""

    def __init__(self, url: str) -> None:
        self.engine = create_async_engine(url)

    async def statuses(self) -> Counter[str]:
        """How many outbox rows are in each status."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(OutboxRow.status, func.count()).group_by(OutboxRow.status)
            )
            return Counter({status: int(count) for status, count in rows.all()})

    async def unsent(self) -> dict[int, Open]:
        """The messages not marked sent, by number."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(OutboxRow.dedupe_key, OutboxRow.status, OutboxRow.claimed_until).where(
                    OutboxRow.status != "sent"
                )
            )
            return {
                int(key.removeprefix("bench:m-")): Open(status, until)
                for key, status, until in rows.all()
            }

    async def close(self) -> None:
        await self.engine.dispose()


# Databases.


@asynccontextmanager
async def database(folder: str, name: str) -> AsyncIterator[str]:
    """An empty database URL: a temporary PostgreSQL database when configured, else SQLite."""
    server = postgres_server()
    if not server:
        yield f"sqlite+aiosqlite:///{folder}/{name}.db"
        return
    async with scratch_postgres(server) as url:
        yield url


# The sender, built as bot.app.build builds it.


def coach_limits() -> Limits:
    settings = Settings(_env_file=None)
    return Limits(
        private_per_second=settings.private_per_second,
        private_burst=settings.private_burst,
        group_per_minute=settings.group_per_minute,
        total_per_second=settings.total_per_second,
    )


@dataclass
class SenderParts:
    sender: OutboxSender
    queue: TimedQueue
    close: Callable[[], Awaitable[None]]


class TimedQueue(DeliveryQueue):
    """The delivery queue, noting when each message was claimed (by its token)."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.claims: dict[int, list[float]] = {}

    async def claim(self, *args: Any, **kwargs: Any) -> list[OutboundMessage]:
        messages = await super().claim(*args, **kwargs)
        now = time.monotonic()
        for message in messages:
            found = TOKEN.search(message.text)
            if found is not None:
                self.claims.setdefault(int(found.group(1)), []).append(now)
        return messages


def make_sender(url: str, api_base: str, token: str, lease: float) -> SenderParts:
    store = Store(create_engine(url))
    bot = make_bot(token, api_base)
    delivery = TelegramDelivery(AiogramCalls(bot), MediaCache(store), ROOT / "curriculum", utc_now)
    queue = TimedQueue(store)
    sender = OutboxSender(
        queue,
        {CHANNEL.name: delivery},
        RateLimiter(coach_limits(), time.monotonic),
        utc_now,
        lease=timedelta(seconds=lease),
    )

    async def close() -> None:
        await bot.session.close()
        await store.close()

    return SenderParts(sender, queue, close)


# What the fake saw.


@dataclass
class Tally:
    """Accepted sendMessage calls, read incrementally from the fake's call log."""

    tg: FakeTelegram
    index: int = 0
    counts: Counter[int] = field(default_factory=Counter)
    per_chat: dict[int, list[int]] = field(default_factory=dict)
    first_at: float | None = None
    last_at: float | None = None
    arrived_at: dict[int, float] = field(default_factory=dict)
    repeated_at: dict[int, list[float]] = field(default_factory=dict)  # acceptances after the 1st

    def update(self) -> int:
        """Read new calls; the number of distinct tokens accepted so far."""
        calls = self.tg.state.calls
        for call in calls[self.index :]:
            if call.method != "sendMessage" or call.status != 200:
                continue
            found = TOKEN.search(str(call.params.get("text", "")))
            if found is None:
                continue
            number = int(found.group(1))
            self.counts[number] += 1
            self.per_chat.setdefault(int(call.params["chat_id"]), []).append(number)
            if number in self.arrived_at:
                self.repeated_at.setdefault(number, []).append(call.at)
            self.arrived_at.setdefault(number, call.at)
            self.first_at = call.at if self.first_at is None else self.first_at
            self.last_at = call.at
        self.index = len(calls)
        return len(self.counts)

    @property
    def duplicates(self) -> int:
        return sum(count - 1 for count in self.counts.values() if count > 1)

    def steady_rate(self) -> float:
        """Messages per second between the first acceptance of the 10th and 90th percentile."""
        times = sorted(self.arrived_at.values())
        if len(times) < 10:
            return 0.0
        low, high = len(times) // 10, len(times) * 9 // 10
        span = times[high] - times[low]
        return (high - low) / span if span > 0 else 0.0

    def order_violations(self) -> int:
        """Messages accepted after a later message of the same chat (repeats not counted)."""
        violations = 0
        for numbers in self.per_chat.values():
            seen: set[int] = set()
            highest = -1
            for number in numbers:
                if number < highest and number not in seen:
                    violations += 1
                seen.add(number)
                highest = max(highest, number)
        return violations


async def wait_for(
    condition: Callable[[], Awaitable[bool]], deadline: float, every: float = 0.05
) -> bool:
    while time.monotonic() < deadline:
        if await condition():
            return True
        await asyncio.sleep(every)
    return await condition()


def report(
    plan: Plan, tally: Tally, started: float, tg: FakeTelegram, idle: float = 0.0
) -> dict[str, Any]:
    """The figures of one run, printed and returned; ``idle``: seconds with no sender
    process running."""
    total = len(plan.chats)
    tally.update()
    accepted = len(tally.counts)
    elapsed = (tally.last_at or started) - started
    rate = accepted / elapsed if elapsed > 0 else 0.0
    share = rate / LIMIT_PER_SECOND
    print(f"  messages accepted     {accepted} of {total}")
    print(f"  elapsed               {elapsed:.1f} s (sender start to last message accepted)")
    print(
        f"  rate                  {rate:.2f} msg/s = {share:.1%} of the {LIMIT_PER_SECOND}/s limit"
        f" (goal ≥ 97 %){'' if share >= 0.97 else '  ← below goal'}"
    )
    steady = tally.steady_rate()
    print(
        f"  steady rate           {steady:.2f} msg/s = {steady / LIMIT_PER_SECOND:.1%} "
        "(the middle 80 % of the messages, without the start and the end)"
    )
    if idle > 0 and elapsed > idle:
        busy = accepted / (elapsed - idle)
        print(
            f"  rate while sending    {busy:.2f} msg/s = {busy / LIMIT_PER_SECOND:.1%} of the limit"
            f" (not counting the {idle:.1f} s with no sender sending)"
        )
    print(f"  429 answers           {tg.count_429} (goal 0)")
    print(f"  duplicates            {tally.duplicates} (goal 0)")
    print(f"  losses                {total - accepted} (goal 0)")
    print(f"  order violations      {tally.order_violations()} (messages overtaking within a chat)")
    return {
        "messages": total,
        "accepted": accepted,
        "seconds": round(elapsed, 2),
        "per_second": round(rate, 2),
        "share_of_limit": round(share, 4),
        "steady_share_of_limit": round(steady / LIMIT_PER_SECOND, 4),
        "answers_429": tg.count_429,
        "duplicates": tally.duplicates,
        "lost": total - accepted,
        "order_violations": tally.order_violations(),
    }


# Runs.


class Warnings(logging.Handler):
    """Keeps the coach's warnings (flood control...) to count them, instead of printing each."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


async def plain_run(folder: str, total: int) -> dict[str, Any]:
    plan = make_plan(total)
    print(f"-- one sender, {plan.describe()}")
    async with database(folder, "plain") as url, fake_telegram() as tg:
        await fill(url, plan)
        monitor = Monitor(url)
        parts = make_sender(url, tg.base_url, tg.token, COACH_LEASE_SECONDS)
        warnings = Warnings()
        logging.getLogger("bot").addHandler(warnings)
        tally = Tally(tg)
        backlog: list[int] = []  # accepted by Telegram, not yet marked sent, every 0.1 s
        started = time.monotonic()
        task = asyncio.create_task(parts.sender.run())

        async def done() -> bool:
            accepted = tally.update()
            sent = (await monitor.statuses())["sent"]
            if accepted > 0:
                backlog.append(max(0, accepted - sent))
            return task.done() or (accepted >= total and sent >= total)

        deadline = started + total / LIMIT_PER_SECOND * 1.5 + 30
        try:
            finished = await wait_for(done, deadline, every=0.1)
        finally:
            parts.sender.stop()
            await asyncio.wait_for(task, 60)
            await parts.close()
            logging.getLogger("bot").removeHandler(warnings)
        if not finished:
            print(f"  (stopped at the deadline, {deadline - started:.0f} s)")
        figures = report(plan, tally, started, tg)
        held = [
            tally.arrived_at[n] - max(c for c in claims if c <= tally.arrived_at[n])
            for n, claims in parts.queue.claims.items()
            if n in tally.arrived_at and min(claims) <= tally.arrived_at[n]
        ]
        again = sum(1 for claims in parts.queue.claims.values() if len(claims) > 1)
        if held:
            print(
                f"  longest in hand       {max(held):.1f} s from claim to acceptance (lease "
                f"{COACH_LEASE_SECONDS:.0f} s; held longer, a message is claimed and sent again); "
                f"{again} messages claimed more than once"
            )
        if backlog:
            mean = sum(backlog) / len(backlog)
            print(
                f"  accepted, not marked  mean {mean:.1f}, max {max(backlog)} messages "
                f"(sampled every 0.1 s: what a crash at that instant would send twice)"
            )
        print(f"  outbox rows at the end {dict(sorted((await monitor.statuses()).items()))}")
        if warnings.messages:
            first = warnings.messages[0][:150]
            print(f"  sender warnings       {len(warnings.messages)}; first: {first}")
        await monitor.close()
    return figures


@dataclass
class Child:
    process: asyncio.subprocess.Process
    started: float


async def start_child(
    url: str,
    tg: FakeTelegram,
    lease: float,
    sweep: float,
    log: Path,
    summary: Path | None = None,
) -> Child:
    """A sender process; with ``summary``, it sends only while elected, as ``coach run``
    does, and writes what it did to that file when it stops."""
    elected = ["--elected", "--summary", str(summary)] if summary is not None else []
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.telegram_delivery",
            "--child",
            "--url",
            url,
            "--api-base",
            tg.base_url,
            "--token",
            tg.token,
            "--lease",
            str(lease),
            "--sweep",
            str(sweep),
            *elected,
            cwd=ROOT,
            stdout=sink,
            stderr=sink,
        )
    return Child(process, time.monotonic())


async def end_child(child: Child, how: signal.Signals, within: float) -> float:
    """Signal the child and wait for it to exit (killed if it does not); seconds taken."""
    began = time.monotonic()
    if child.process.returncode is None:
        child.process.send_signal(how)
        try:
            await asyncio.wait_for(child.process.wait(), within)
        except TimeoutError:
            print(f"  (the sender did not stop within {within:.0f} s of {how.name}; killed)")
            child.process.kill()
            await child.process.wait()
    return time.monotonic() - began


async def restart_run(folder: str, total: int, how: signal.Signals) -> dict[str, Any]:
    plan = make_plan(total, seed=11 if how == signal.SIGKILL else 13)
    print(
        f"-- {how.name} half way, then a new sender process: {plan.describe()}; "
        f"lease {BENCH_LEASE_SECONDS:.0f} s, sweep every {BENCH_SWEEP_SECONDS:.0f} s"
    )
    log = Path(folder) / f"child-{how.name}.log"
    async with database(folder, f"restart-{how.name}") as url, fake_telegram() as tg:
        await fill(url, plan)
        monitor = Monitor(url)
        tally = Tally(tg)
        children: list[Child] = []
        idle = 0.0
        try:
            first = await start_child(url, tg, BENCH_LEASE_SECONDS, BENCH_SWEEP_SECONDS, log)
            children.append(first)
            started = first.started

            async def half() -> bool:
                return first.process.returncode is not None or tally.update() >= total // 2

            await wait_for(half, started + total / LIMIT_PER_SECOND + 30, every=0.01)
            stopping, stopped_wall = time.monotonic(), utc_now()
            stop_took = await end_child(first, how, within=30)
            at_stop = tally.update()
            last_old = tally.last_at or stopping
            left_open = await monitor.unsent()
            claimed = {n for n, row in left_open.items() if row.status == "sending"}
            not_marked = claimed & set(tally.counts)
            stuck = claimed - not_marked
            print(
                f"  stopped after         {at_stop} accepted; the process took {stop_took:.2f} s"
                f" to exit (exit code {first.process.returncode})"
            )
            print(
                f"  left by the old one   {len(claimed)} claimed ('sending'): {len(stuck)} not "
                f"sent, {len(not_marked)} accepted by Telegram but not marked sent"
            )
            second = await start_child(url, tg, BENCH_LEASE_SECONDS, BENCH_SWEEP_SECONDS, log)
            children.append(second)

            async def done() -> bool:
                if second.process.returncode is not None:
                    return True
                if tally.update() < total:
                    return False
                counts = await monitor.statuses()
                return counts["pending"] + counts["sending"] == 0

            deadline = time.monotonic() + total / LIMIT_PER_SECOND + BENCH_LEASE_SECONDS + 30
            finished = await wait_for(done, deadline, every=0.1)
            after = [at for at in tally.arrived_at.values() if at > second.started]
            if after:
                idle = min(after) - last_old
                print(
                    f"  new process           first message accepted "
                    f"{min(after) - second.started:.2f} s after its start; "
                    f"{idle:.2f} s with no message accepted (mostly importing aiogram)"
                )
            arrivals = [tally.arrived_at[n] - stopping for n in stuck if n in tally.arrived_at]
            claims = [
                until - timedelta(seconds=BENCH_LEASE_SECONDS)
                for n in stuck
                if (until := left_open[n].claimed_until) is not None
            ]
            if arrivals and claims:
                due = [
                    (claim + timedelta(seconds=COACH_LEASE_SECONDS) - stopped_wall).total_seconds()
                    for claim in claims
                ]
                print(
                    f"  the claimed ones      arrived {min(arrivals):.1f}–{max(arrivals):.1f} s"
                    f" after the signal (lease {BENCH_LEASE_SECONDS:.0f} s); with the coach's"
                    f" {COACH_LEASE_SECONDS:.0f} s lease and 30 s sweep: {min(due):.0f}–"
                    f"{max(due) + 30:.0f} s"
                )
            if not finished:
                print("  (stopped at the deadline)")
        finally:
            for child in children:
                await end_child(child, signal.SIGTERM, within=30)
        tally.update()
        across = sum(
            1
            for n, again in tally.repeated_at.items()
            for at in again
            if tally.arrived_at[n] <= stopping and at >= second.started
        )
        print(
            f"  duplicates by cause   {across} first accepted before the signal and again by the "
            f"new process; {tally.duplicates - across} sent twice by one process (a claim that "
            "outlived its lease, claimed again by the sweep)"
        )
        figures = report(plan, tally, started, tg, idle)
        print(f"  outbox rows at the end {dict(sorted((await monitor.statuses()).items()))}")
        await monitor.close()
        output = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
        if output:
            print(f"  sender log lines      {len(output)}; first: {output[0][:150]}")
    figures["duplicates_across_restart"] = across
    return figures


async def processes_run(folder: str, total: int, count: int) -> dict[str, Any]:
    """``count`` sender processes, each as ``coach run`` has it (the sender runs only while
    the process is elected, plus the outbox sweep), on one database, all started at once."""
    plan = make_plan(total, seed=17 + count)
    print(
        f"-- {count} sender process{'es' if count > 1 else ''} on one database, each sending only"
        f" while elected (bot/services/leader.py): {plan.describe()}"
    )
    log = Path(folder) / f"processes-{count}.log"
    summaries = [Path(folder) / f"processes-{count}-{n}.json" for n in range(count)]
    async with database(folder, f"processes-{count}") as url, fake_telegram() as tg:
        await fill(url, plan)
        monitor = Monitor(url)
        tally = Tally(tg)
        children: list[Child] = []
        try:
            for summary in summaries:
                children.append(
                    await start_child(
                        url, tg, COACH_LEASE_SECONDS, COACH_SWEEP_SECONDS, log, summary
                    )
                )
            started = children[0].started

            async def done() -> bool:
                if all(child.process.returncode is not None for child in children):
                    return True
                if tally.update() < total:
                    return False
                counts = await monitor.statuses()
                return counts["pending"] + counts["sending"] == 0

            # A process may take a minute to start on a busy machine (imports).
            deadline = started + STARTING_SECONDS + total / LIMIT_PER_SECOND * 1.5 + 30
            finished = await wait_for(done, deadline, every=0.1)
            if not finished:
                print(f"  (stopped at the deadline, {deadline - started:.0f} s)")
        finally:
            for child in children:
                await end_child(child, signal.SIGTERM, within=30)
        tally.update()
        first = min(tally.arrived_at.values(), default=started)
        print(
            f"  first message accepted {first - started:.2f} s after the processes started "
            "(importing aiogram, connecting, the election)"
        )
        figures = report(plan, tally, first - 1 / LIMIT_PER_SECOND, tg)
        print(f"  outbox rows at the end {dict(sorted((await monitor.statuses()).items()))}")
        await monitor.close()
        did = [
            json.loads(summary.read_text()) if summary.exists() else {"claimed": None}
            for summary in summaries
        ]
        sent_by = [entry.get("claimed") for entry in did]
        senders = sum(1 for claimed in sent_by if claimed)
        print(
            f"  processes that sent   {senders} of {count}; messages claimed by each: {sent_by}; "
            f"times each was told another leads: {[entry.get('not_elected') for entry in did]}"
        )
        output = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
        said = Counter(
            line[:160] for line in output if line.strip() and not line.startswith((" ", "Tr"))
        )
        if output:
            print(f"  sender log lines      {len(output)}; most said:")
            for text_, times in said.most_common(6):
                print(f"    {times} × {text_}")
    figures |= {
        "processes": count,
        "processes_that_sent": senders,
        "claimed_by_process": sent_by,
        "first_accepted_after_seconds": round(first - started, 2),
    }
    return figures


async def run(only_processes: bool = False, messages: int = PLAIN_MESSAGES) -> dict[str, Any]:
    print("== telegram delivery: outbox → OutboxSender → aiogram → fake Bot API with limits ==")
    server = postgres_server()
    engine_name = "PostgreSQL (temporary databases)" if server else "SQLite (temporary files)"
    print(
        f"database: {engine_name}; fake limits 30/s in all, 20/min per group, 1/s per "
        f"private chat (burst 3); coach limits {coach_limits()}"
    )
    version = await asyncio.to_thread(code_version)
    print(f"coach code: {version}")
    figures: dict[str, Any] = {"code": version, "database": "postgresql" if server else "sqlite"}
    with tempfile.TemporaryDirectory(prefix="coach-bench-") as folder:
        if not only_processes:
            figures["one_sender"] = await plain_run(folder, PLAIN_MESSAGES)
            figures["sigkill"] = await restart_run(folder, RESTART_MESSAGES, signal.SIGKILL)
            figures["sigterm"] = await restart_run(folder, RESTART_MESSAGES, signal.SIGTERM)
        counts = (1, 3) if only_processes else (3,)
        for count in counts:
            if not server:
                print(
                    f"-- {count} sender processes: skipped (on SQLite every process leads; set "
                    "COACH_BENCH_DATABASE_URL to a PostgreSQL server to run it)"
                )
                continue
            figures[f"processes_{count}"] = await processes_run(folder, messages, count)
    return figures


# The child process: one sender, as `coach run` has it (sender plus the outbox sweep).


async def child_main(
    url: str,
    api_base: str,
    token: str,
    lease: float,
    sweep: float,
    summary: Path | None = None,
) -> dict[str, int]:
    """One sender; with ``summary``, elected as ``coach run`` elects it, and what it did is
    written to that file (how many messages it claimed, how often another process led)."""
    parts = make_sender(url, api_base, token, lease)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopping.set if summary else parts.sender.stop)

    async def sweeping() -> None:
        while True:
            await asyncio.sleep(sweep)
            await sweep_outbox(parts.queue, parts.sender, utc_now)

    sweeper = asyncio.create_task(sweeping())
    election = Election.on(parts.queue.store.engine) if summary else None
    try:
        if election is None:
            await parts.sender.run()
        else:
            sending = asyncio.create_task(parts.sender.run_elected(election))
            stop = asyncio.create_task(stopping.wait())
            await asyncio.wait({sending, stop}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            await stop_sender(parts.sender, sending)
    finally:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        await parts.close()
    attempts = election.attempts if election is not None else 0
    return {"pid": os.getpid(), "claimed": len(parts.queue.claims), "not_elected": attempts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="the figures as JSON on stdout")
    parser.add_argument(
        "--processes", action="store_true", help="only the runs with 1 and 3 sender processes"
    )
    parser.add_argument(
        "--messages", type=int, default=PLAIN_MESSAGES, help="messages of the process runs"
    )
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--url")
    parser.add_argument("--api-base")
    parser.add_argument("--token")
    parser.add_argument("--lease", type=float, default=COACH_LEASE_SECONDS)
    parser.add_argument("--sweep", type=float, default=COACH_SWEEP_SECONDS)
    parser.add_argument("--elected", action="store_true")
    parser.add_argument("--summary", type=Path)
    args = parser.parse_args()
    if args.child:
        summary = args.summary if args.elected else None
        done = asyncio.run(
            child_main(args.url, args.api_base, args.token, args.lease, args.sweep, summary)
        )
        if summary is not None:
            summary.write_text(json.dumps(done))
        return
    with figures_out(args.json) as give:
        give(asyncio.run(run(args.processes, args.messages)))


if __name__ == "__main__":
    main()
