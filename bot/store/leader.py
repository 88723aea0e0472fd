"""Which coach process leads for a name, as the database decides it.

On PostgreSQL a leader holds a session-level advisory lock (``pg_try_advisory_lock``) on one
connection taken from the pool and kept aside while it leads: the server lets go of the lock
when that session ends, whether the process stops, dies or loses its network. The connection
runs outside any transaction (autocommit), so the server's idle-in-transaction timeout never
ends it, and asks the server to probe a silent client often, so the lock of a process that
vanished without closing its socket is freed within seconds too.

On SQLite (one machine, one coach process) every process leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from typing import Any, Protocol

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store.database import is_postgres

log = logging.getLogger(__name__)
NAMESPACE = b"coach-leader:"  # keeps the coach's keys apart from other users of the database
# The server probes a client silent this long, this often, this many times before ending
# its session (and so freeing its lock).
KEEPALIVE = {"tcp_keepalives_idle": 5, "tcp_keepalives_interval": 2, "tcp_keepalives_count": 3}


def lock_key(name: str) -> int:
    """The advisory lock's key for ``name``: a signed 64-bit number (PostgreSQL's bigint)."""
    digest = hashlib.sha256(NAMESPACE + name.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Held(Protocol):
    """A lock this process holds, and with it the leadership of one name."""

    async def alive(self, within: float) -> bool:
        """Whether the lock is still held, answered within ``within`` seconds."""

    async def release(self) -> None:
        """Let go of the lock (others may take it at once)."""


class Locks(Protocol):
    async def try_lock(self, name: str) -> Held | None:
        """The lock for ``name`` when it was free; None when another process holds it."""


class HeldAdvisoryLock:
    def __init__(self, connection: AsyncConnection, key: int, driver: Any) -> None:
        self.connection = connection
        self.key = key
        self.driver = driver  # asyncpg's own connection, to cut at once when it is lost
        self.lost = False

    async def alive(self, within: float) -> bool:
        """The session that holds the lock answers: while it lives, the lock is held."""
        try:
            async with asyncio.timeout(within):
                return await self.connection.scalar(select(1)) == 1
        except Exception as error:  # any failure of the session holding the lock loses it
            log.warning("the connection holding a leader's lock failed (%s)", type(error).__name__)
            self.lost = True
            return False

    async def release(self) -> None:
        """Unlock and give the connection back; a connection that failed, or fails to unlock,
        is closed instead (its session's end frees the lock), never pooled with the lock."""
        if self.lost:
            # A connection that stopped answering is cut without a goodbye it would wait on.
            with contextlib.suppress(Exception):
                self.driver.terminate()
            await _discard(self.connection)
            return
        try:
            async with asyncio.timeout(5.0):
                await self.connection.scalar(select(func.pg_advisory_unlock(self.key)))
        except BaseException:
            await _discard(self.connection)
            raise
        await self.connection.close()


class AdvisoryLocks:
    """Leadership on PostgreSQL: one advisory lock per name."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def try_lock(self, name: str) -> Held | None:
        key = lock_key(name)
        connection = await self.engine.connect()
        try:
            got = await connection.scalar(select(func.pg_try_advisory_lock(key)))
            if got:
                for setting, value in KEEPALIVE.items():
                    await connection.execute(text(f"SET {setting} = {value}"))
                driver = (await connection.get_raw_connection()).driver_connection
        except BaseException:
            await _discard(connection)  # the lock may be held already: end the session
            raise
        if not got:
            await connection.close()
            return None
        return HeldAdvisoryLock(connection, key, driver)


class HeldForever:
    async def alive(self, within: float) -> bool:
        return True

    async def release(self) -> None:
        return None


class EveryoneLeads:
    """Leadership on SQLite: the documented deployment is one process, which leads."""

    async def try_lock(self, name: str) -> Held | None:
        return HeldForever()


def locks_for(engine: AsyncEngine) -> Locks:
    return AdvisoryLocks(engine) if is_postgres(engine) else EveryoneLeads()


async def _discard(connection: AsyncConnection) -> None:
    """Close the session rather than pool it: the server frees whatever it held."""
    with contextlib.suppress(Exception):
        await connection.invalidate()
    with contextlib.suppress(Exception):
        await connection.close()
