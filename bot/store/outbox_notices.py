"""On PostgreSQL, a new outbox row is announced to every coach process (NOTIFY, sent when its
transaction commits and dropped if it rolls back), so that what waits for it in another
process (a web page's stream, the elected sender) hears of it at once instead of at its next
look. On SQLite nothing is announced: those waiting look now and then. Rows the ORM adds are
announced by a flush hook; rows written in one statement (a batch of turns, the reminder
sweep) by ``announce_written`` beside that statement.

The flush hook is registered once, at import, and never removed: SQLAlchemy walks a listener
list while it calls it, and the announcement's query lets other tasks run meanwhile, so adding
or removing a listener then would break that walk. Which channels are announced is kept apart,
in ``_ANNOUNCED``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import Session

from bot.store.tables import OutboxRow

log = logging.getLogger(__name__)
NOTICES = "coach_outbox"  # PostgreSQL's channel for LISTEN and NOTIFY; a notice is a chat id
_ANNOUNCED: set[str] = set()
# Every chat of a transaction in one statement (a notice per chat, sent at commit).
_NOTIFY = text("SELECT pg_notify(:notices, chat) FROM unnest(CAST(:chats AS text[])) AS chat")


def announce(channel: str) -> None:
    """From now on, new outbox rows of ``channel`` are announced (on PostgreSQL)."""
    _ANNOUNCED.add(channel)


def _notices(written: Iterable[tuple[str, str]]) -> dict[str, Any] | None:
    """The parameters announcing these (channel, chat id) of new rows; None if none is."""
    chats = sorted({chat_id for channel, chat_id in written if channel in _ANNOUNCED})
    return {"notices": NOTICES, "chats": chats} if chats else None


def _announce(session: Session, _context: Any) -> None:
    if session.bind is None or session.bind.dialect.name != "postgresql":
        return
    notices = _notices((r.channel, r.chat_id) for r in session.new if isinstance(r, OutboxRow))
    if notices is not None:
        session.connection().execute(_NOTIFY, notices)


async def announce_written(connection: AsyncConnection, written: Iterable[tuple[str, str]]) -> None:
    """Announce the new rows of these (channel, chat id), written without the ORM (whose
    flush hook announces the rows it adds)."""
    if connection.dialect.name != "postgresql":
        return
    notices = _notices(written)
    if notices is not None:
        await connection.execute(_NOTIFY, notices)


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
