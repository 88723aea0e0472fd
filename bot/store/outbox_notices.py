"""On PostgreSQL, a new outbox row is announced to every coach process (NOTIFY, sent when its
transaction commits and dropped if it rolls back), so that what waits for it in another
process (a web page's stream, the elected sender) hears of it at once instead of at its next
look. On SQLite nothing is announced: those waiting look now and then.

The flush hook is registered once, at import, and never removed: SQLAlchemy walks a listener
list while it calls it, and the announcement's query lets other tasks run meanwhile, so adding
or removing a listener then would break that walk. Which channels are announced is kept apart,
in ``_ANNOUNCED``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from bot.store.tables import OutboxRow

log = logging.getLogger(__name__)
NOTICES = "coach_outbox"  # PostgreSQL's channel for LISTEN and NOTIFY; a notice is a chat id
_ANNOUNCED: set[str] = set()


def announce(channel: str) -> None:
    """From now on, new outbox rows of ``channel`` are announced (on PostgreSQL)."""
    _ANNOUNCED.add(channel)


def _announce(session: Session, _context: Any) -> None:
    if session.bind is None or session.bind.dialect.name != "postgresql":
        return
    chats = {r.chat_id for r in session.new if isinstance(r, OutboxRow) and r.channel in _ANNOUNCED}
    for chat_id in sorted(chats):
        session.connection().execute(
            text("SELECT pg_notify(:notices, :chat)"), {"notices": NOTICES, "chat": chat_id}
        )


if not event.contains(Session, "after_flush", _announce):
    event.listen(Session, "after_flush", _announce)


@contextlib.asynccontextmanager
async def hearing(
    engine: AsyncEngine, heard: Callable[[str], None], *, retry_seconds: float
) -> AsyncIterator[None]:
    """While the block runs, ``heard(chat_id)`` for every announced row, on one pooled
    connection (PostgreSQL only); a lost connection is listened on again after
    ``retry_seconds``, and those waiting look for themselves meanwhile."""
    if engine.dialect.name != "postgresql":
        yield
        return
    task = asyncio.create_task(_listen(engine, heard, retry_seconds))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _listen(engine: AsyncEngine, heard: Callable[[str], None], retry_seconds: float) -> None:
    def notice(_connection: Any, _pid: int, _channel: str, chat_id: str) -> None:
        heard(chat_id)

    while True:
        try:
            async with engine.connect() as connection:
                raw = await connection.get_raw_connection()
                driver: Any = raw.driver_connection  # asyncpg's connection
                lost = asyncio.Event()

                def ended(_connection: Any, lost: asyncio.Event = lost) -> None:
                    lost.set()

                driver.add_termination_listener(ended)
                await driver.add_listener(NOTICES, notice)
                try:
                    await lost.wait()
                finally:
                    driver.remove_termination_listener(ended)
                    with contextlib.suppress(Exception):
                        await driver.remove_listener(NOTICES, notice)
        except Exception as error:  # the database away: those waiting look for themselves
            log.info("outbox notices not heard: %s", type(error).__name__)
        await asyncio.sleep(retry_seconds)
