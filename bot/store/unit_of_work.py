"""One transaction per learner event: state, event log, inbound key and outbox together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from bot.store.database import for_reading, is_postgres, sessions, writing
from bot.store.learners import LearnerRepository
from bot.store.outbox import OutboxRepository
from bot.store.requests import RequestRepository
from bot.store.tables import EventRow, InboundKey

KEYS = cast(Table, InboundKey.__table__)


class ReadOnly(Exception):
    """A unit of work opened for reading was asked to write."""


class ReadingSession(Session):
    """The session of ``Store.reading``: a write through it is refused before it starts."""


@event.listens_for(ReadingSession, "before_flush")
def _no_flush(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    raise ReadOnly("a unit of work for reading cannot store a change")


@event.listens_for(ReadingSession, "do_orm_execute")
def _no_statement_that_writes(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise ReadOnly("a unit of work for reading cannot run INSERT, UPDATE or DELETE")


class UnitOfWork:
    def __init__(self, session: AsyncSession, postgres: bool) -> None:
        self.session = session
        self.postgres = postgres
        self.learners = LearnerRepository(session, lock_rows=postgres)
        self.outbox = OutboxRepository(session)
        self.requests = RequestRepository(session)

    async def inbound_seen(self, key: str) -> bool:
        return await self.session.get(InboundKey, key) is not None

    async def inbound_keys_seen(self, *keys: str) -> set[str]:
        """Which of these update keys are stored, in one query."""
        query = select(KEYS.c.key).where(KEYS.c.key.in_(keys))  # Core: no ORM work per call
        return set((await self.session.execute(query)).scalars())

    async def remember_inbound(self, key: str, learner_id: int | None, at: datetime) -> None:
        """Store the update's key; a concurrent duplicate fails the commit on the primary key."""
        self.session.add(InboundKey(key=key, learner_id=learner_id, at=at))
        await self.session.flush()

    async def record(
        self, learner_id: int | None, name: str, data: dict[str, Any], at: datetime
    ) -> None:
        self.session.add(EventRow(learner_id=learner_id, name=name, data=data, at=at))

    async def record_returning_id(
        self, learner_id: int | None, name: str, data: dict[str, Any], at: datetime
    ) -> int:
        """Record an event now and return its id, unique across processes and restarts."""
        row = EventRow(learner_id=learner_id, name=name, data=data, at=at)
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def events(self, name: str | None = None) -> list[EventRow]:
        query = select(EventRow).order_by(EventRow.id)
        if name is not None:
            query = query.where(EventRow.name == name)
        return list(await self.session.scalars(query))


class Store:
    """Opens units of work on one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = sessions(engine)
        self._readers = async_sessionmaker(
            for_reading(engine), expire_on_commit=False, sync_session_class=ReadingSession
        )
        self._postgres = is_postgres(engine)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """Commits when the block ends normally, rolls back on any error.

        On SQLite it first waits for this process's turn to write (``writing``), held until
        the commit or rollback is done (not while the connection goes back to the pool):
        the process's writers take SQLite's lock one after the other, in the order they
        came, none of them polling for it.
        """
        async with self._sessions() as session, writing(self.engine), session.begin():
            yield UnitOfWork(session, self._postgres)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[UnitOfWork]:
        """A unit of work for look-ups that write nothing: on SQLite it neither waits for
        nor holds the write lock, and sees what was committed when it began. A write in
        it is refused (``ReadOnly``). PostgreSQL: as ``unit_of_work``."""
        async with self._readers() as session, session.begin():
            yield UnitOfWork(session, self._postgres)

    async def close(self) -> None:
        await self.engine.dispose()
