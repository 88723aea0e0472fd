"""The worst answer to the e-mail practice, through the live web chat, beside a normal one.

A learner at the "invent an e-mail address" step sends "@" × 4096 (which took a
backtracking engine 82 s); meanwhile /healthz is asked every 20 ms. Printed: how long the
worst answer took against a normal answer, and the slowest /healthz while it ran.
Set COACH_BENCH_DATABASE_URL to measure PostgreSQL too.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bot.app import build, running
from bot.config import Settings
from bot.store.database import upgrade

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "tests" / "fixtures" / "courses" / "email-practice"
WORST = {'"@" × 4096': "@" * 4096, '"a@" × 2048': "a@" * 2048}
NORMAL = "sara.martin@gmail.com"


async def post(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> dict[str, Any]:
    async with http.post(url, json=body) as response:
        answer: dict[str, Any] = await response.json()
        if response.status != 200:
            raise RuntimeError(f"{response.status}: {answer}")
        return answer


async def at_the_practice(http: aiohttp.ClientSession, base: str) -> str:
    """A new conversation brought to the practice step; its URL."""
    started = await post(http, f"{base}/api/webchat", {"text": "/start"})
    url = f"{base}/api/webchat/{started['conversation']}"
    await post(http, url, {"button": "lang:en"})
    await post(http, url, {"button": "les:email-create-address"})
    return url


async def timed_answer(http: aiohttp.ClientSession, base: str, answer: str) -> float:
    url = await at_the_practice(http, base)
    started = time.perf_counter()
    await post(http, url, {"text": answer})
    return time.perf_counter() - started


async def slowest_health(http: aiohttp.ClientSession, base: str, stop: asyncio.Event) -> float:
    slowest = 0.0
    while not stop.is_set():
        started = time.perf_counter()
        async with http.get(f"{base}/healthz") as response:
            await response.read()
        slowest = max(slowest, time.perf_counter() - started)
        await asyncio.sleep(0.02)
    return slowest


async def measure(database_url: str) -> list[str]:
    settings = Settings(
        database_url=database_url,
        curriculum_path=COURSE,
        locales_path=ROOT / "locales",
        languages=["en"],
        timezones=["Europe/Paris"],
        web_port=0,
        _env_file=None,  # type: ignore[call-arg]
    )
    coach = build(settings)
    await upgrade(coach.store.engine)
    lines = []
    async with running(coach) as base, aiohttp.ClientSession() as http:
        normal = min([await timed_answer(http, base, NORMAL) for _ in range(5)])
        for label, worst in WORST.items():
            stop = asyncio.Event()
            health = asyncio.create_task(slowest_health(http, base, stop))
            took = await timed_answer(http, base, worst)
            stop.set()
            slowest = await health
            lines.append(
                f"{label}: {took * 1000:.0f} ms (normal answer {normal * 1000:.0f} ms, "
                f"ratio {took / normal:.1f}); slowest /healthz meanwhile {slowest * 1000:.0f} ms"
            )
    return lines


async def run() -> None:
    print("== worst answer: a hostile e-mail address at the practice step, live web chat ==")
    with tempfile.TemporaryDirectory() as folder:
        targets = [("SQLite", f"sqlite+aiosqlite:///{folder}/bench.db")]
        if os.environ.get("COACH_BENCH_DATABASE_URL"):
            targets.append(("PostgreSQL", os.environ["COACH_BENCH_DATABASE_URL"]))
        for name, url in targets:
            for line in await measure(url):
                print(f"{name:<11} {line}")


if __name__ == "__main__":
    asyncio.run(run())
