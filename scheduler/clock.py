"""One AsyncIOScheduler per process with interval jobs; no job store is shared.

Due times live on database rows, so the jobs only look for what is due: any number of
processes can run them, and a restart loses nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.stopping import finish


@dataclass(frozen=True)
class IntervalJob:
    name: str
    seconds: float
    run: Callable[[], Awaitable[object]]


class Clock:
    """Runs interval jobs that never overlap themselves and skip runs missed while busy.

    ``stop`` lets a run in progress finish (for a while) instead of cancelling it halfway
    through a transaction, and returns only when no job is running any more.
    """

    def __init__(self, jobs: list[IntervalJob]) -> None:
        self.scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        )
        self._runs: set[asyncio.Task[object]] = set()
        for job in jobs:
            self.scheduler.add_job(
                self._tracked(job),
                "interval",
                seconds=job.seconds,
                id=job.name,
                next_run_time=datetime.now(UTC),
            )

    def _tracked(self, job: IntervalJob) -> Callable[[], Awaitable[object]]:
        async def run() -> object:
            task = asyncio.current_task()
            assert task is not None
            self._runs.add(task)
            try:
                return await job.run()
            finally:
                self._runs.discard(task)

        return run

    def start(self) -> None:
        self.scheduler.start()

    async def stop(self, grace: float) -> None:
        """Start no new run; wait at most ``grace`` seconds for the running ones, then cancel."""
        if not self.scheduler.running:
            return
        self.scheduler.pause()
        await asyncio.sleep(0)  # a run submitted just now starts and is counted, not cancelled
        await finish(self._runs, "scheduled jobs", grace)
        self.scheduler.shutdown(wait=False)
