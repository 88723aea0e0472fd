"""One transaction per learner event: state, event log, inbound key and outbox together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.store.database import is_postgres, sessions
from bot.store.learners import LearnerRepository
from bot.store.outbox import OutboxRepository
from bot.store.requests import RequestRepository
from bot.store.tables import EventRow, InboundKey


class UnitOfWork:
    def __init__(self, session: AsyncSession, postgres: bool) -> None:
        self.session = session
        self.postgres = postgres
        self.learners = LearnerRepository(session, lock_rows=postgres)
        self.outbox = OutboxRepository(session)
        self.requests = RequestRepository(session)

    async def inbound_seen(self, key: str) -> bool:
        return await self.session.get(InboundKey, key) is not None

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
        self._postgres = is_postgres(engine)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """Commits when the block ends normally, rolls back on any error."""
        async with self._sessions() as session, session.begin():
            yield UnitOfWork(session, self._postgres)

    async def close(self) -> None:
        await self.engine.dispose()
