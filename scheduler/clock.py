"""One AsyncIOScheduler per process with interval jobs; no job store is shared.

Due times live on database rows, so the jobs only look for what is due: any number of
processes can run them, and a restart loses nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler


@dataclass(frozen=True)
class IntervalJob:
    name: str
    seconds: float
    run: Callable[[], Awaitable[object]]


def make_scheduler(jobs: list[IntervalJob]) -> AsyncIOScheduler:
    """A scheduler whose jobs never overlap themselves and skip runs missed while busy."""
    scheduler = AsyncIOScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
    )
    for job in jobs:
        scheduler.add_job(
            job.run, "interval", seconds=job.seconds, id=job.name, next_run_time=datetime.now(UTC)
        )
    return scheduler
