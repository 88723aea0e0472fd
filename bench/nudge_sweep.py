"""The reminder sweep at 100,000 and 1,000,000 learners: time per learner, the longest
batch transaction, and memory, beside the per-learner sweep it replaced.

"APScheduler is the clock, the database is the queue" (DESIGN.md): due times live on the
learners' rows (``next_nudge_at``, indexed) and an interval job claims them in batches.
For each engine and size this seeds the learners in one statement (1 % of them due, each
due one inside a lesson), then runs in a fresh process:

1. the set-based sweep (``NudgeSweep``): per batch one query for the due learners, one
   for their progress and one for trainers' previews; the policy and rendering in memory,
   no transaction open; then one short transaction that claims the learners still as read
   and writes one statement per table (learners, outbox, events);
2. the per-learner sweep it replaced (a few statements per learner, all in one
   transaction a batch), from the same rows, as the baseline.

It prints milliseconds per due learner (wall clock, and the sweep process's CPU time, which
a busy machine inflates less; PostgreSQL's own work is not in it), each batch's time and
its writing transaction's (a learner's own turn waits at most that long behind a sweep:
on SQLite for the write lock, on PostgreSQL for their row), statements per batch, and the
process's peak memory (RSS, and how much it grew during the sweep).

``python -m bench.nudge_sweep`` runs on SQLite (a file in a temporary folder) and, when
``COACH_BENCH_DATABASE_URL`` or ``COACH_TEST_DATABASE_URL`` names a PostgreSQL server, on
PostgreSQL too (in a database of its own, dropped at the end). ``--quick``: 10,000 and
100,000 learners; ``--batch N``: learners a batch (500, the coach's default);
``--full-baseline``: the per-learner sweep at 1,000,000 learners too (minutes more);
``--json``: one JSON document on stdout; ``--naive``: also one APScheduler 3 date job per
learner in memory (start-up time and memory), the design not taken.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.store.database import create_engine, is_postgres, upgrade

ROOT = Path(__file__).resolve().parent.parent
SERVER_ENVS = ("COACH_BENCH_DATABASE_URL", "COACH_TEST_DATABASE_URL")

# The benchmark's clock: 12:00 UTC is daytime (10:00-19:00) in every zone below, so each
# due learner really gets a reminder.
NOW = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)
ZONES = ("Europe/Paris", "Africa/Abidjan", "Europe/Istanbul", "Africa/Cairo")
BATCH = 500  # learners a batch, as COACH_NUDGE_BATCH by default; --batch to try others
DUE_PERCENT = 1  # of the learners are due at NOW; the others over the next 7 days
SPREAD = timedelta(days=7)
SIZES = (100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
BASELINE_MOST = 1_000  # due learners the per-learner sweep is run for (100,000 learners)
NAIVE_SIZES = (10_000, 100_000, 300_000)
NAIVE_BIG = 1_000_000
NAIVE_BIG_BUDGET_S = 60.0
NAIVE_BIG_BUDGET_MIB = 4096.0
CHILD_TIMEOUT_S = 300.0
SEED_TIMEOUT_S = 600.0
RESULT = "RESULT "
MIB = 1024.0
SET_BASED, PER_LEARNER = "set-based", "per-learner"


# Measuring a process.


def rss_mib() -> float:
    """The process's resident memory now (VmRSS), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / MIB
    return 0.0


def peak_rss_mib() -> float:
    """The process's peak resident memory so far (VmHWM), MiB. Not ``ru_maxrss``: Linux
    keeps it across ``exec``, so a child started by a large parent (``python -m bench``,
    after the other benchmarks) would report at least the parent's size at the fork."""
    return child_peak_mib(os.getpid())


def child_peak_mib(pid: int) -> float:
    """A running child's peak resident memory so far (VmHWM), MiB."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / MIB
    return 0.0


def say(line: str) -> None:
    """A line of the human report (on stderr with --json, so stdout stays one document)."""
    print(line, file=sys.stderr if QUIET else sys.stdout, flush=True)


QUIET = False


async def run_child(args: list[str], limit_s: float) -> dict[str, Any] | None:
    """Run ``python -m bench.nudge_sweep --child ...`` in a fresh process; its result line.

    None (and the reason printed) when it fails; ``{"stopped": True, "peak": MiB}`` when it
    overruns ``limit_s``, then it is killed.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.nudge_sweep",
        "--child",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), limit_s)
    except TimeoutError:
        peak = child_peak_mib(process.pid)
        process.kill()
        await process.wait()
        return {"stopped": True, "peak": peak}
    except BaseException:
        process.kill()
        await process.wait()
        raise
    for line in reversed(out.decode().splitlines()):
        if line.startswith(RESULT):
            result: dict[str, Any] = json.loads(line[len(RESULT) :])
            return result
    tail = err.decode().strip().splitlines()[-5:]
    say(f"  (child {' '.join(args[:3])} failed, exit {process.returncode}: {' | '.join(tail)})")
    return None


# Seeding: one INSERT ... SELECT over a generated series, on either engine.


def first_step() -> tuple[str, str]:
    """The course's first lesson and its second step: where the due learners stopped."""
    from bot.course.holder import CourseHolder

    lesson = CourseHolder.load(ROOT / "curriculum").course.lessons[0]
    return lesson.id, lesson.steps[min(1, len(lesson.steps) - 1)].id


def due_of(count: int) -> int:
    return count * DUE_PERCENT // 100


def rank(index: str, count: int) -> str:
    """Learner ``index``'s place in due-time order: ``(i * 7919) % count`` is a permutation
    of 0..count-1 (7919 is a prime that does not divide a power of ten), so the due learners
    are scattered over the table as in real life."""
    return f"(({index}) * 7919 % {count})"


def offset_us(index: str, count: int) -> str:
    """Learner ``index``'s due time after NOW, in microseconds: the first ``due`` learners
    (in due-time order) before NOW, the others spread over SPREAD after it."""
    spread_us = int(SPREAD.total_seconds()) * 1_000_000
    return f"(({rank(index, count)} - {due_of(count)}) * 2 + 1) * {spread_us} / {2 * count}"


class Dialect:
    """The few SQL expressions that differ between SQLite and PostgreSQL."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres

    def index(self, name: str) -> str:
        return f"{name}::bigint" if self.postgres else name

    def at(self, micros: str) -> str:
        """NOW plus ``micros`` microseconds, as the column stores it."""
        if self.postgres:
            return f"(TIMESTAMPTZ '{NOW.isoformat()}' + ({micros}) * INTERVAL '1 microsecond')"
        moment = f"({int(NOW.timestamp()) * 1_000_000} + ({micros}))"
        return (
            f"(strftime('%Y-%m-%d %H:%M:%S', {moment} / 1000000, 'unixepoch') "
            f"|| printf('.%06d', {moment} % 1000000))"
        )

    def zone(self, index: str) -> str:
        cases = " ".join(f"WHEN {n} THEN '{zone}'" for n, zone in enumerate(ZONES))
        return f"(CASE {index} % {len(ZONES)} {cases} END)"

    def series(self, count: int) -> tuple[str, str]:
        """(before the INSERT, FROM clause) giving ``i`` = 1..count."""
        if self.postgres:
            return "", f"generate_series(1, {count}) AS i"
        recursive = (
            f"WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq "
            f"WHERE i < {count}) "
        )
        return recursive, "seq"

    def boolean(self, value: bool) -> str:
        return ("true" if value else "false") if self.postgres else str(int(value))


def fill_sql(dialect: Dialect, count: int, lesson: str) -> str:
    """Insert ``count`` learners; exactly DUE_PERCENT % are due at NOW, each inside a lesson."""
    i = dialect.index("i")
    hours_us = f"(24 + {i} % 120) * 3600 * 1000000"
    before, source = dialect.series(count)
    false = dialect.boolean(False)
    return f"""
        {before}INSERT INTO learners (
            channel, chat_id, user_id, language, status, timezone, current_lesson, choices,
            streak_days, created_at, last_seen_at, last_activity_at, nudges_unanswered,
            asked_to_pause, handoff_open, next_nudge_at, reviews, text_only, version
        )
        SELECT
            'web', 'bench-' || i, 'bench-' || i, 'en', 'active', {dialect.zone("i")},
            CASE WHEN {rank(i, count)} < {due_of(count)} THEN '{lesson}' END, '[]', 0,
            {dialect.at(str(-30 * 86400 * 1_000_000))},
            {dialect.at("-" + hours_us)}, {dialect.at("-" + hours_us)},
            0, {false}, {false}, {dialect.at(offset_us(i, count))}, '[]', {false}, 0
        FROM {source}
    """


def progress_sql(step: str) -> str:
    """Each learner inside a lesson is at ``step`` of it."""
    return f"""
        INSERT INTO lesson_progress (
            learner_id, lesson_id, status, step_id, score, step_attempts, started_at
        )
        SELECT id, current_lesson, 'started', '{step}', 0, 0, last_activity_at
        FROM learners WHERE current_lesson IS NOT NULL
    """


def reset_sql(dialect: Dialect, count: int) -> list[str]:
    """The learners a sweep reminded, as they were before it (``id`` was ``i``)."""
    i = dialect.index("id")
    false = dialect.boolean(False)
    return [
        "DELETE FROM outbox",
        "DELETE FROM events",
        f"""UPDATE learners SET next_nudge_at = {dialect.at(offset_us(i, count))},
            nudges_unanswered = 0, last_nudge_at = NULL, asked_to_pause = {false}, version = 0
            WHERE version > 0""",
    ]


async def fill(engine: AsyncEngine, count: int) -> float:
    """An empty database with ``count`` learners, statistics up to date; the seconds it took."""
    dialect = Dialect(is_postgres(engine))
    lesson, step = first_step()
    started = time.perf_counter()
    async with engine.begin() as connection:
        if dialect.postgres:
            await connection.execute(
                text(
                    "TRUNCATE learners, lesson_progress, events, inbound_keys, outbox "
                    "RESTART IDENTITY CASCADE"
                )
            )
        else:  # ids start at 1 again once the table is empty (no AUTOINCREMENT)
            for table in ("lesson_progress", "events", "inbound_keys", "outbox", "learners"):
                await connection.execute(text(f"DELETE FROM {table}"))
        await connection.execute(text(fill_sql(dialect, count, lesson)))
        await connection.execute(text(progress_sql(step)))
    await analyze(engine)
    return time.perf_counter() - started


async def reset(engine: AsyncEngine, count: int) -> None:
    async with engine.begin() as connection:
        for statement in reset_sql(Dialect(is_postgres(engine)), count):
            await connection.execute(text(statement))
    await analyze(engine)


async def analyze(engine: AsyncEngine) -> None:
    if not is_postgres(engine):
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
        return
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM (ANALYZE) learners, lesson_progress"))


async def count_due(engine: AsyncEngine) -> int:
    from bot.store.tables import Learner

    async with engine.connect() as connection:
        query = select(func.count()).where(Learner.next_nudge_at <= NOW)
        return int((await connection.execute(query)).scalar_one())


# The sweeps, each run in a fresh process.


def per_learner_sweep_class() -> type[Any]:
    """The sweep as it was before it was set-based: a few statements for each learner
    (select the batch, then per learner its progress, its update, its events and outbox
    rows), kept here as the baseline."""
    from bot.core.channel import Capabilities, Destination
    from bot.core.effects import Record, Reply
    from bot.core.reminders import due_at, nudge_turn
    from bot.services.figures import preview_learners
    from bot.services.figures_live import reminder_sent
    from bot.services.nudging import TEMPLATES, NudgeSweep
    from bot.services.rendering import Renderer
    from bot.store.tables import Learner
    from bot.store.unit_of_work import UnitOfWork

    class PerLearnerSweep(NudgeSweep):
        async def _batch(self, now: datetime) -> tuple[int, int, int]:
            written = 0
            async with self.store.unit_of_work() as uow:
                rows = await uow.learners.due_for_nudge(now, self.batch)
                previews = await preview_learners(uow.session, [row.id for row in rows])
                for row in rows:
                    if row.id in previews:
                        row.next_nudge_at = None
                        continue
                    written += await self._remind_one(uow, row, now)
            return written, len(rows), len(rows)

        async def _remind_one(self, uow: UnitOfWork, row: Learner, now: datetime) -> int:
            group = row.in_group
            before = await uow.learners.state_of(row)
            course = self.courses.course
            after, effects, key = nudge_turn(before, course, now, self.rules, str(row.id))
            next_at = due_at(after, self.rules, now, group)
            await uow.learners.save(row, before, after, now, next_at, seen=False)
            if key is None:
                return 0
            for effect in effects:
                if isinstance(effect, Record):
                    await uow.record(row.id, effect.name, effect.data, now)
            channel = self.channels.get(row.channel, Capabilities(row.channel))
            to = Destination(
                row.channel, row.chat_id, f"nudge:{row.id}:{key}", row.id, group, row.first_name
            )
            replies = [effect for effect in effects if isinstance(effect, Reply)]
            language = before.language or self.catalogs.fallback
            rows = Renderer(self.catalogs, channel).rows(replies, to, language, now)
            template = TEMPLATES.get(row.channel)
            if template is not None and rows and replies and rows[0].media is None:
                rows[0].media = template(replies[0].parts[0], self.catalogs, language)
            for outbox_row in rows:
                await uow.outbox.add(outbox_row)
            reminder_sent(row.channel)
            return 1

    return PerLearnerSweep


def seal_with_a_key_of_its_own() -> None:
    """The outbox's texts are sealed at rest where the store does so: with a new key here."""
    try:
        sealed = importlib.import_module("bot.store.sealed")
    except ImportError:
        return
    sealed.use_data_keys([sealed.new_key()])


async def child_sweep(url: str, kind: str, batch: int) -> dict[str, Any]:
    """One sweep over every due learner at NOW: each batch timed, statements counted."""
    from bot.channels.webchat import CHANNEL as WEB
    from bot.core.rules import Rules
    from bot.course.holder import CourseHolder
    from bot.i18n import Catalogs
    from bot.services.nudging import NudgeSweep
    from bot.store.unit_of_work import Store, UnitOfWork

    base: type[NudgeSweep] = NudgeSweep if kind == SET_BASED else per_learner_sweep_class()
    batches: list[tuple[float, int, int]] = []
    statements = [0]
    writes: list[float] = []

    class TimedSweep(base):  # type: ignore[valid-type,misc]
        async def _batch(self, now: datetime) -> tuple[int, int, int]:
            started, before = time.perf_counter(), statements[0]
            written, looked, claimed = await super()._batch(now)
            batches.append((time.perf_counter() - started, looked, statements[0] - before))
            return int(written), int(looked), int(claimed)

    class TimedStore(Store):
        @contextlib.asynccontextmanager
        async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
            """The transaction that writes, timed: a learner's turn may wait behind it."""
            started = time.perf_counter()
            async with super().unit_of_work() as uow:
                yield uow
            writes.append(time.perf_counter() - started)

    seal_with_a_key_of_its_own()
    engine = create_engine(url)

    def count(*_: Any) -> None:
        statements[0] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    catalogs = Catalogs(ROOT / "locales", ["en", "fr", "ar"], "en")
    courses = CourseHolder.load(ROOT / "curriculum")
    rules = Rules(catalogs.names(), ZONES)
    sweep = TimedSweep(TimedStore(engine), courses, catalogs, rules, {WEB.name: WEB}, batch=batch)
    async with engine.connect() as connection:  # the pool's first connection, as in a coach
        await connection.execute(text("SELECT 1"))
    statements[0] = 0
    before = rss_mib()
    started, cpu = time.perf_counter(), time.process_time()
    sent = await sweep.sweep(NOW)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    await engine.dispose()
    return {
        "sent": sent,
        "elapsed": elapsed,
        "cpu": cpu,
        "batches": batches,
        "writes": writes,
        "before": before,
    }


# The parent: seed, sweep in a child, put the learners back, sweep the old way, compare.


def summary(result: Mapping[str, Any], batch: int) -> dict[str, Any]:
    """A child's result as figures: per learner, per batch, memory."""
    batches = [seconds for seconds, looked, _ in result["batches"] if looked]
    writes = result["writes"] or [0.0]
    looked = sum(n for _, n, _ in result["batches"])
    return {
        "batch_size": batch,
        "learners_swept": looked,
        "reminders": result["sent"],
        "seconds": round(result["elapsed"], 3),
        "ms_per_learner": round(result["elapsed"] * 1000 / max(looked, 1), 3),
        "cpu_ms_per_learner": round(result["cpu"] * 1000 / max(looked, 1), 3),
        "batches": len(batches),
        "batch_ms_median": round(statistics.median(batches) * 1000, 1) if batches else 0.0,
        "batch_ms_longest": round(max(batches) * 1000, 1) if batches else 0.0,
        "write_transaction_ms_median": round(statistics.median(writes) * 1000, 1),
        "write_transaction_ms_longest": round(max(writes) * 1000, 1),
        "statements_per_batch": max((n for _, _, n in result["batches"]), default=0),
        "peak_rss_mib": round(result["peak"], 1),
        "rss_growth_mib": round(result["peak"] - result["before"], 1),
    }


def sweep_line(kind: str, figures: Mapping[str, Any]) -> str:
    return (
        f"  {kind:<11} {figures['learners_swept']:>7,} due learners, "
        f"{figures['reminders']:,} reminders in {figures['seconds']:.2f} s: "
        f"{figures['ms_per_learner']:.3f} ms per learner ({figures['cpu_ms_per_learner']:.3f} "
        f"ms of the sweep process's CPU); {figures['batches']} batches of "
        f"≤{figures['batch_size']} (each {figures['batch_ms_median']:,.1f} ms, longest "
        f"{figures['batch_ms_longest']:,.1f} ms), its writing transaction "
        f"{figures['write_transaction_ms_median']:,.1f} ms, longest "
        f"{figures['write_transaction_ms_longest']:,.1f} ms; at most "
        f"{figures['statements_per_batch']:,} statements a batch; "
        f"peak RSS {figures['peak_rss_mib']:,.0f} MiB "
        f"({figures['rss_growth_mib']:+,.1f} MiB during the sweep)"
    )


async def sweep_in_child(url: str, kind: str) -> dict[str, Any] | None:
    args = ["sweep", "--url", url, "--kind", kind, "--batch", str(BATCH)]
    result = await run_child(args, CHILD_TIMEOUT_S)
    if result is None:
        return None
    if result.get("stopped"):
        say(f"  {kind:<11} did not finish in {CHILD_TIMEOUT_S:.0f} s")
        return None
    return summary(result, BATCH)


async def measure_size(engine: AsyncEngine, url: str, count: int) -> dict[str, Any]:
    """One size on one engine: seed, both sweeps from the same rows, the ratio."""
    seeded = await fill(engine, count)
    due = await count_due(engine)
    say(f"{engine.dialect.name} {count:,} learners seeded in {seeded:.1f} s, {due:,} due")
    figures: dict[str, Any] = {"engine": engine.dialect.name, "learners": count, "due": due}
    figures["seed_seconds"] = round(seeded, 1)
    figures[SET_BASED] = await sweep_in_child(url, SET_BASED)
    if figures[SET_BASED] is not None:
        say(sweep_line(SET_BASED, figures[SET_BASED]))
    if due > BASELINE_MOST:
        say(f"  {PER_LEARNER:<11} not run above {BASELINE_MOST:,} due learners")
        return figures
    await reset(engine, count)
    figures[PER_LEARNER] = await sweep_in_child(url, PER_LEARNER)
    if figures[PER_LEARNER] is not None:
        say(sweep_line(PER_LEARNER, figures[PER_LEARNER]))
    if figures[SET_BASED] and figures[PER_LEARNER]:
        ratio = figures[PER_LEARNER]["ms_per_learner"] / figures[SET_BASED]["ms_per_learner"]
        figures["speed_up"] = round(ratio, 1)
        say(f"  set-based is {ratio:.1f} times faster per learner")
    return figures


@contextlib.asynccontextmanager
async def sqlite_url() -> AsyncIterator[str]:
    with tempfile.TemporaryDirectory(prefix="coach-bench-") as folder:
        yield f"sqlite+aiosqlite:///{folder}/coach.db"


@contextlib.asynccontextmanager
async def postgres_url(server: str) -> AsyncIterator[str | None]:
    """A database of the benchmark's own on ``server`` (None when unreachable), dropped after."""
    name = f"coach_bench_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT", connect_args={"timeout": 10})
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    except (DBAPIError, OSError, TimeoutError) as error:
        await admin.dispose()
        shown = make_url(server).render_as_string(hide_password=True)
        say(f"PostgreSQL at {shown} unreachable ({type(error).__name__}): skipped")
        yield None
        return
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def engine_part(url: str, sizes: tuple[int, ...]) -> list[dict[str, Any]]:
    engine = create_engine(url, timeout=SEED_TIMEOUT_S)  # a million rows take a while
    try:
        await upgrade(engine)
        return [await measure_size(engine, url, count) for count in sizes]
    finally:
        await engine.dispose()


async def run(sizes: tuple[int, ...] = SIZES, naive: bool = False) -> dict[str, Any]:
    """Every part, one after the other; each measured sweep is a fresh child process."""
    started = time.perf_counter()
    say(f"== reminder sweep, batch {BATCH}, {DUE_PERCENT} % of the learners due ==")
    report: dict[str, Any] = {"batch": BATCH, "due_percent": DUE_PERCENT, "runs": []}
    async with sqlite_url() as url:
        report["runs"] += await engine_part(url, sizes)
    server = next((os.environ[name] for name in SERVER_ENVS if os.environ.get(name)), None)
    if server is not None:
        async with postgres_url(server) as url_or_none:
            if url_or_none is not None:
                report["runs"] += await engine_part(url_or_none, sizes)
    if naive:
        await naive_part()
    report["seconds"] = round(time.perf_counter() - started)
    say(f"(nudge sweep benchmark took {report['seconds']} s)")
    return report


# Part 3: the naive design, one APScheduler job per learner.

# A coach restarting with one job per learner re-adds them all: either read in due-time
# order (ORDER BY next_nudge_at), or in learner order, where due times come shuffled.
NAIVE_ORDERS = {
    "due": "added in due-time order",
    "id": "added in learner order (due times shuffled)",
}


def naive_line(count: int, order: str, result: Mapping[str, Any], note: str = "") -> str:
    return (
        f"naive  {count:>9,} date jobs {NAIVE_ORDERS[order]}: start-up "
        f"{result['elapsed']:6.2f} s ({result['elapsed'] * 1e6 / count:.0f} µs a job), "
        f"peak RSS {result['peak']:,.0f} MiB "
        f"({result['peak'] - result['before']:+,.0f} MiB for the jobs){note}"
    )


async def naive_order(order: str) -> None:
    results: dict[int, dict[str, Any]] = {}
    for count in NAIVE_SIZES:
        args = ["naive", "--learners", str(count), "--order", order]
        result = await run_child(args, CHILD_TIMEOUT_S)
        if result is None or result.get("stopped"):
            return
        results[count] = result
        say(naive_line(count, order, result))
    small, large = NAIVE_SIZES[-2], NAIVE_SIZES[-1]

    def extrapolate(key: str) -> float:
        slope = (results[large][key] - results[small][key]) / (large - small)
        return float(results[large][key] + slope * (NAIVE_BIG - large))

    guess = {
        "elapsed": extrapolate("elapsed"),
        "peak": extrapolate("peak"),
        "before": results[large]["before"],
    }
    note = f" — EXTRAPOLATED linearly from {small // 1000}k/{large // 1000}k, not measured"
    per_job = [results[n]["elapsed"] / n for n in (small, large)]
    superlinear = per_job[1] > 1.25 * per_job[0]
    if superlinear:
        note += (
            "; the time a job grows with their number (each add inserts into one sorted "
            "list), so this is a LOWER BOUND"
        )
    too_big = guess["elapsed"] > NAIVE_BIG_BUDGET_S * 1.25 or guess["peak"] > NAIVE_BIG_BUDGET_MIB
    if superlinear or too_big:
        say(naive_line(NAIVE_BIG, order, guess, note))
        return
    limit_s = max(1.5 * guess["elapsed"], NAIVE_BIG_BUDGET_S * 1.25)
    args = ["naive", "--learners", str(NAIVE_BIG), "--order", order]
    measured = await run_child(args, limit_s)
    if measured is None:
        say(naive_line(NAIVE_BIG, order, guess, note))
    elif measured.get("stopped"):
        say(naive_line(NAIVE_BIG, order, guess, note))
        say(
            f"naive  {NAIVE_BIG:>9,} date jobs {NAIVE_ORDERS[order]}: measured, NOT finished "
            f"after {limit_s:.0f} s (stopped; peak RSS {measured['peak']:,.0f} MiB by then)"
        )
    else:
        say(naive_line(NAIVE_BIG, order, measured))


async def naive_part() -> None:
    say(
        "== naive design: one APScheduler 3 date job per learner "
        "(AsyncIOScheduler, MemoryJobStore), fresh process each =="
    )
    for order in NAIVE_ORDERS:
        await naive_order(order)


async def _nudge(learner_id: int) -> None:
    """The job each learner would have; it must never run during the measurement."""
    raise RuntimeError(f"a naive job fired during the benchmark (learner {learner_id})")


async def child_naive(count: int, order: str) -> dict[str, Any]:
    """Add one date job per learner (due times in the coming week), then start.

    ``order``: "due" adds them by due time, "id" by learner id (due times shuffled).
    """
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    limit = 6 * 1024**3
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    base = datetime.now(UTC) + timedelta(days=1)
    run_dates = [base + SPREAD * ((i * 7919) % count) / count for i in range(count)]
    learners = list(range(count))
    if order == "due":
        learners.sort(key=run_dates.__getitem__)
    fired: list[int] = []
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_listener(
        lambda _event: fired.append(1), EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED
    )
    before = rss_mib()
    started = time.perf_counter()
    for learner_id in learners:
        scheduler.add_job(
            _nudge,
            "date",
            run_date=run_dates[learner_id],
            args=(learner_id,),
            id=f"nudge:{learner_id}",
        )
    scheduler.start()
    await asyncio.sleep(0)  # the scheduler's first wake-up: it looks for due jobs
    elapsed = time.perf_counter() - started
    await asyncio.sleep(0.2)
    jobs = len(scheduler.get_jobs())
    scheduler.shutdown(wait=False)
    if fired or jobs != count:
        raise RuntimeError(f"{len(fired)} jobs fired, {jobs} of {count} scheduled")
    return {"elapsed": elapsed, "before": before}


def main(argv: list[str] | None = None) -> None:
    global BASELINE_MOST, BATCH, QUIET
    parser = argparse.ArgumentParser(prog="python -m bench.nudge_sweep", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10,000 and 100,000 learners")
    parser.add_argument("--json", action="store_true", help="the figures as JSON on stdout")
    parser.add_argument("--naive", action="store_true", help="also one APScheduler job each")
    parser.add_argument(
        "--full-baseline", action="store_true", help="the per-learner sweep at every size too"
    )
    parser.add_argument("--batch", type=int, default=BATCH, help=f"learners a batch ({BATCH})")
    parser.add_argument("--child", choices=["sweep", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--kind", choices=[SET_BASED, PER_LEARNER], help=argparse.SUPPRESS)
    parser.add_argument("--learners", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--order", choices=list(NAIVE_ORDERS), default="id", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    BATCH = options.batch
    if options.full_baseline:
        BASELINE_MOST = max(SIZES)
    if options.child is None:
        QUIET = options.json
        report = asyncio.run(run(QUICK_SIZES if options.quick else SIZES, options.naive))
        if options.json:
            print(json.dumps(report, indent=2))
        return
    if options.child == "sweep":
        result = asyncio.run(child_sweep(options.url, options.kind, options.batch))
    else:
        result = asyncio.run(child_naive(options.learners, options.order))
    result["peak"] = peak_rss_mib()
    print(RESULT + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
