"""Choosing the due reminders among a million learners, and the memory it takes.

"APScheduler is the clock, the database is the queue" (DESIGN.md): due times live on the
learners' rows (``next_nudge_at``, indexed) and an interval job claims them in batches.
This measures, on PostgreSQL:

1. the time to select and lock one batch of due learners (``due_for_nudge``) among
   10,000 and 1,000,000 learners, the plan of that query, and the time of the real sweep
   (``NudgeSweep.sweep``: policy, outbox rows, next due time) per batch and per learner;
2. the peak memory of a fresh process running that sweep at 10,000 and 1,000,000 learners;
3. beside it, the naive design: one APScheduler 3 date job per learner in a
   ``MemoryJobStore`` (start-up time and peak memory), each size in a fresh process.

``python -m bench.nudge_sweep``; the PostgreSQL server is ``COACH_BENCH_DATABASE_URL``
(default: the local ``test`` database); the benchmark creates its own database there and
drops it at the end. Without a reachable server the PostgreSQL part is skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import statistics
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.store.database import create_engine, upgrade
from bot.store.unit_of_work import Store

ROOT = Path(__file__).resolve().parent.parent
SERVER_ENV = "COACH_BENCH_DATABASE_URL"
DEFAULT_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"

# The benchmark's clock: 12:00 UTC is daytime (10:00-19:00) in every zone below, so each
# due learner really gets a reminder.
NOW = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)
ZONES = ("Europe/Paris", "Africa/Abidjan", "Europe/Istanbul", "Africa/Cairo")
BATCH = 500
DUE_PERCENT = 1  # of the learners are due at NOW; the others over the next 7 days
SPREAD = timedelta(days=7)
SELECT_ROUNDS = 20
SWEEP_SIZES = (10_000, 1_000_000)
NAIVE_SIZES = (10_000, 100_000, 300_000)
NAIVE_BIG = 1_000_000
NAIVE_BIG_BUDGET_S = 60.0
NAIVE_BIG_BUDGET_MIB = 4096.0
CHILD_TIMEOUT_S = 150.0
RESULT = "RESULT "
MIB = 1024.0


# Measuring a process.


def rss_mib() -> float:
    """The process's resident memory now (VmRSS), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / MIB
    return 0.0


def peak_rss_mib() -> float:
    """The process's peak resident memory so far (ru_maxrss is KiB on Linux), MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MIB


def child_peak_mib(pid: int) -> float:
    """A running child's peak resident memory so far (VmHWM), MiB."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / MIB
    return 0.0


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def spread_of(values: Sequence[float]) -> str:
    """Median and 95th percentile, as milliseconds."""
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {ms(statistics.median(ordered))}, p95 {ms(p95)}"


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
    print(f"  (child {' '.join(args[:3])} failed, exit {process.returncode}: {' | '.join(tail)})")
    return None


# Part 1 and 2: the design in use, on PostgreSQL.


def fill_sql(count: int) -> str:
    """Insert ``count`` learners; exactly DUE_PERCENT % are due at NOW, scattered in the heap.

    ``(i * 7919) % count`` is a permutation of 0..count-1 (7919 is a prime that does not
    divide a power of ten), so due learners are spread over the table as in real life.
    """
    due = count * DUE_PERCENT // 100
    zones = ", ".join(f"'{zone}'" for zone in ZONES)
    now = f"TIMESTAMPTZ '{NOW.isoformat()}'"
    step = f"(INTERVAL '{SPREAD.days} days' / {count})"
    return f"""
        INSERT INTO learners (
            channel, chat_id, user_id, language, status, timezone, choices, streak_days,
            created_at, last_seen_at, last_activity_at, nudges_unanswered, asked_to_pause,
            handoff_open, next_nudge_at, reviews, version
        )
        SELECT
            'web', 'bench-' || i, 'bench-' || i, 'en', 'active',
            (ARRAY[{zones}])[1 + i % {len(ZONES)}], '[]', 0,
            {now} - INTERVAL '30 days',
            {now} - make_interval(hours => 24 + i % 120),
            {now} - make_interval(hours => 24 + i % 120),
            0, false, false,
            {now} + ((i::bigint * 7919) % {count} - {due} + 0.5) * {step},
            '[]', 0
        FROM generate_series(1, {count}) AS i
    """


async def fill(engine: AsyncEngine, count: int) -> float:
    """Empty the tables, insert ``count`` learners, VACUUM ANALYZE; the seconds it took."""
    started = time.perf_counter()
    async with engine.begin() as connection:
        await connection.execute(
            text("TRUNCATE learners, lesson_progress, events, inbound_keys, outbox CASCADE")
        )
        await connection.execute(text(fill_sql(count)))
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM (ANALYZE) learners"))
    return time.perf_counter() - started


async def count_due(engine: AsyncEngine, now: datetime) -> int:
    async with engine.connect() as connection:
        query = text("SELECT count(*) FROM learners WHERE next_nudge_at <= :now")
        return int((await connection.execute(query, {"now": now})).scalar_one())


async def table_size_mib(engine: AsyncEngine) -> float:
    async with engine.connect() as connection:
        query = text("SELECT pg_total_relation_size('learners')")
        return int((await connection.execute(query)).scalar_one()) / MIB / MIB


async def time_due_select(store: Store, now: datetime) -> tuple[list[float], int]:
    """``due_for_nudge`` timed alone, SELECT_ROUNDS times after one warm-up.

    Each round only locks the rows and then ends, so the same learners stay due.
    """
    timings, rows = [], 0
    for round_ in range(SELECT_ROUNDS + 1):
        async with store.unit_of_work() as uow:
            started = time.perf_counter()
            learners = await uow.learners.due_for_nudge(now, BATCH)
            elapsed = time.perf_counter() - started
            rows = len(learners)
            await uow.session.rollback()
        if round_:
            timings.append(elapsed)
    return timings, rows


def plan_nodes(plan: Mapping[str, Any]) -> list[str]:
    """The plan's nodes, top down (first child only), e.g. Index Scan using ix_..."""
    node = str(plan["Node Type"])
    if "Index Name" in plan:
        node += f" using {plan['Index Name']}"
    children = plan.get("Plans") or []
    return [node, *(plan_nodes(children[0]) if children else [])]


async def explain_due_query(store: Store, now: datetime) -> str:
    """EXPLAIN ANALYZE of the very SQL ``due_for_nudge`` sends, on one line."""
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "next_nudge_at <=" in statement and not captured:
            captured.append((statement, parameters))

    sync_engine = store.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", capture)
    try:
        async with store.unit_of_work() as uow:
            await uow.learners.due_for_nudge(now, BATCH)
            await uow.session.rollback()
    finally:
        event.remove(sync_engine, "before_cursor_execute", capture)
    statement, parameters = captured[0]
    async with store.engine.connect() as connection:
        explain = f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement}"
        raw = (await connection.exec_driver_sql(explain, parameters)).scalar_one()
        await connection.rollback()
    document = json.loads(raw) if isinstance(raw, str) else raw
    top = document[0]
    nodes = plan_nodes(top["Plan"])
    kind = "index scan" if any("Index" in node for node in nodes) else "NO index scan"
    return f"{kind}: {' > '.join(nodes)}; executed in {top['Execution Time']:.2f} ms"


async def measure_size(store: Store, url: str, count: int) -> None:
    engine = store.engine
    filled = await fill(engine, count)
    size = await table_size_mib(engine)
    due = await count_due(engine, NOW)
    print(
        f"data   {count:,} learners inserted + VACUUM ANALYZE in {filled:.1f} s "
        f"(table and indexes {size:,.0f} MiB); {due:,} due at the sweep's time"
    )
    # With few learners, fewer than a batch are due: take a later time for the select
    # alone, so that both sizes fill a whole batch of BATCH.
    select_now = NOW
    if due < BATCH * 3 // 2:
        select_now = NOW + SPREAD * (BATCH * 3 // 2 - due) / count
    due_then = await count_due(engine, select_now) if select_now != NOW else due
    print(f"plan   due query among {count:,}: {await explain_due_query(store, select_now)}")
    timings, rows = await time_due_select(store, select_now)
    later = f", at a later time when {due_then:,} are due" if select_now != NOW else ""
    print(
        f"sweep  due-select batch of {rows} among {count:,}{later}: "
        f"{spread_of(timings)} over {len(timings)} batches"
    )
    result = await run_child(["sweep", "--url", url, "--learners", str(count)], CHILD_TIMEOUT_S)
    if result is None or result.get("stopped"):
        print(f"sweep  the sweep among {count:,} did not finish in {CHILD_TIMEOUT_S:.0f} s")
        return
    batches = [seconds for seconds, looked in result["batches"] if looked]
    full = [seconds for seconds, looked in result["batches"] if looked == BATCH]
    looked = sum(n for _, n in result["batches"])
    elapsed = result["elapsed"]
    print(
        f"sweep  NudgeSweep.sweep among {count:,}: {looked:,} due learners in {len(batches)} "
        f"batches, {result['sent']:,} reminders written to the outbox, {elapsed:.2f} s "
        f"({elapsed * 1000 / max(looked, 1):.2f} ms per learner)"
    )
    if full:
        print(
            f"sweep  one sweep batch of {BATCH} (select, policy, outbox, update, commit) "
            f"among {count:,}: {spread_of(full)} over {len(full)} batches"
        )
    print(
        f"memory sweep process at {count:,} learners: peak RSS {result['peak']:,.0f} MiB "
        f"({result['peak'] - result['before']:+,.0f} MiB over the {result['before']:,.0f} MiB "
        f"before the sweep)"
    )


async def postgres_part() -> None:
    print(
        "== nudge sweep on PostgreSQL: due rows claimed in batches "
        f"(FOR UPDATE SKIP LOCKED), batch {BATCH}, {DUE_PERCENT} % due =="
    )
    server = os.environ.get(SERVER_ENV) or DEFAULT_SERVER
    name = f"coach_bench_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT", connect_args={"timeout": 10})
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    except (DBAPIError, OSError, TimeoutError) as error:
        await admin.dispose()
        shown = make_url(server).render_as_string(hide_password=True)
        print(f"PostgreSQL at {shown} unreachable ({type(error).__name__}): part skipped")
        return
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        await upgrade(engine)
        store = Store(engine)
        for count in SWEEP_SIZES:
            await measure_size(store, url, count)
    finally:
        await engine.dispose()
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


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
        print(naive_line(count, order, result))
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
        print(naive_line(NAIVE_BIG, order, guess, note))
        return
    limit_s = max(1.5 * guess["elapsed"], NAIVE_BIG_BUDGET_S * 1.25)
    args = ["naive", "--learners", str(NAIVE_BIG), "--order", order]
    measured = await run_child(args, limit_s)
    if measured is None:
        print(naive_line(NAIVE_BIG, order, guess, note))
    elif measured.get("stopped"):
        print(naive_line(NAIVE_BIG, order, guess, note))
        print(
            f"naive  {NAIVE_BIG:>9,} date jobs {NAIVE_ORDERS[order]}: measured, NOT finished "
            f"after {limit_s:.0f} s (stopped; peak RSS {measured['peak']:,.0f} MiB by then)"
        )
    else:
        print(naive_line(NAIVE_BIG, order, measured))


async def naive_part() -> None:
    print(
        "== naive design: one APScheduler 3 date job per learner "
        "(AsyncIOScheduler, MemoryJobStore), fresh process each =="
    )
    for order in NAIVE_ORDERS:
        await naive_order(order)


async def run() -> None:
    """Every part, one after the other; each measured process is a fresh child."""
    started = time.perf_counter()
    await postgres_part()
    await naive_part()
    print(f"(nudge sweep benchmark took {time.perf_counter() - started:.0f} s)")


# The children.


async def child_sweep(url: str) -> dict[str, Any]:
    """The real sweep over every due learner at NOW, each batch timed."""
    from bot.channels.webchat import CHANNEL as WEB
    from bot.core.rules import Rules
    from bot.course.holder import CourseHolder
    from bot.i18n import Catalogs
    from bot.services.nudging import NudgeSweep

    batches: list[tuple[float, int]] = []

    class TimedSweep(NudgeSweep):
        async def _batch(self, now: datetime) -> tuple[int, int]:
            started = time.perf_counter()
            written, looked = await super()._batch(now)
            batches.append((time.perf_counter() - started, looked))
            return written, looked

    engine = create_engine(url)
    catalogs = Catalogs(ROOT / "locales", ["en", "fr", "ar"], "en")
    courses = CourseHolder.load(ROOT / "curriculum")
    rules = Rules(catalogs.names(), ZONES)
    sweep = TimedSweep(Store(engine), courses, catalogs, rules, {WEB.name: WEB}, batch=BATCH)
    async with engine.connect() as connection:  # the pool's first connection, as in a coach
        await connection.execute(text("SELECT 1"))
    before = rss_mib()
    started = time.perf_counter()
    sent = await sweep.sweep(NOW)
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return {"sent": sent, "elapsed": elapsed, "batches": batches, "before": before}


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
    parser = argparse.ArgumentParser(prog="python -m bench.nudge_sweep", description=__doc__)
    parser.add_argument("--child", choices=["sweep", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--learners", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--order", choices=list(NAIVE_ORDERS), default="id", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.child is None:
        asyncio.run(run())
        return
    if options.child == "sweep":
        result = asyncio.run(child_sweep(options.url))
    else:
        result = asyncio.run(child_naive(options.learners, options.order))
    result["peak"] = peak_rss_mib()
    print(RESULT + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
