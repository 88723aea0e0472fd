"""One coach process at a time does a piece of work (follows a stream, say), and another
takes it over within seconds when that one stops, dies or loses the database.

``Election.run_while_leader(name, work)`` runs for as long as the coach does: it asks for the
leadership of ``name`` every ``COACH_LEADER_RETRY_SECONDS`` until it has it, then runs
``work()``; it checks every ``COACH_LEADER_CHECK_SECONDS`` that it still leads, and cancels
``work()`` at once when it no longer does, then asks again. Leadership is held by the
database (``bot/store/leader.py``): an advisory lock on PostgreSQL; on SQLite every process
leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.leader import Held, Locks, locks_for
from bot.tracebacks import without_messages

log = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 10.0  # how long cancelled work may take to wind down
# A check may take this long at least (a busy database is not a lost one); a connection
# that was cut fails at once.
ANSWER_SECONDS = 2.0

Work = Callable[[], Awaitable[None]]


class LeaderSettings(BaseSettings):
    """``COACH_LEADER_*``: how often a process asks to lead, and checks that it still does."""

    model_config = SettingsConfigDict(
        env_prefix="COACH_LEADER_", env_file=".env", extra="ignore", env_ignore_empty=True
    )

    retry_seconds: float = Field(default=5.0, gt=0, le=300)
    check_seconds: float = Field(default=5.0, gt=0, le=300)


class Election:
    def __init__(self, locks: Locks, *, retry_seconds: float, check_seconds: float) -> None:
        self.locks = locks
        self.retry_seconds = retry_seconds
        self.check_seconds = check_seconds
        self.leading: set[str] = set()  # the names this process leads now
        self.attempts = 0  # times this process asked to lead and was told another does

    @classmethod
    def on(cls, engine: AsyncEngine, settings: LeaderSettings | None = None) -> Election:
        settings = settings or LeaderSettings()
        return cls(
            locks_for(engine),
            retry_seconds=settings.retry_seconds,
            check_seconds=settings.check_seconds,
        )

    async def run_while_leader(self, name: str, work: Work) -> None:
        """Run ``work()`` whenever this process leads ``name``, until cancelled or until
        ``work()`` returns by itself; leadership is given up either way."""
        while True:
            held = await self._elected(name)
            self.leading.add(name)
            log.info("leading %s", name)
            try:
                finished = await self._lead(name, held, work)
            finally:
                self.leading.discard(name)
                await _released(held)
            if finished:
                return
            await asyncio.sleep(self.retry_seconds)

    async def _elected(self, name: str) -> Held:
        """The lock for ``name``, once this process gets it."""
        while True:
            try:
                held = await self.locks.try_lock(name)
            except Exception:  # the database is away: ask again later
                log.warning("could not ask to lead %s", name, exc_info=True)
                held = None
            if held is not None:
                return held
            self.attempts += 1
            await asyncio.sleep(self.retry_seconds)

    async def _lead(self, name: str, held: Held, work: Work) -> bool:
        """Run ``work()`` while ``held`` is alive: True when it returned by itself, False when
        leadership was lost or the work failed."""
        task = asyncio.create_task(_run(work), name=f"leading {name}")
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=self.check_seconds)
                if done:
                    return task.result()
                if not await held.alive(within=max(self.check_seconds, ANSWER_SECONDS)):
                    log.warning("no longer leading %s: its work is stopped", name)
                    return False
        finally:
            await _stopped(task)


async def _run(work: Work) -> bool:
    """True when ``work()`` returned; False when it failed (leadership is then given up, and
    asked for again after a pause, so another process may take the work on)."""
    try:
        await work()
    except Exception as error:  # its message may quote what the work was handling
        log.error("the leader's work failed\n%s", without_messages(error))
        return False
    return True


async def _stopped(task: asyncio.Task[bool]) -> None:
    if task.done():
        return
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=STOP_GRACE_SECONDS)
    if not done:
        log.warning("the leader's work did not stop within %.0f s", STOP_GRACE_SECONDS)
        return
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _released(held: Held) -> None:
    try:
        await held.release()
    except Exception:
        log.warning("a leader's lock was not released cleanly", exc_info=True)
