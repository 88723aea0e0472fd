"""For coordinators: requests for a person with their times to claim and to close."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.store.tables import Handoff
from bot.store.unit_of_work import Store


@dataclass(frozen=True)
class HandoffLine:
    id: int
    status: str
    topic: str
    language: str
    created_at: datetime
    to_claim: timedelta | None
    to_close: timedelta | None


async def handoff_lines(store: Store, open_only: bool) -> list[HandoffLine]:
    """For coordinators: requests with their times to claim and to close."""
    async with store.unit_of_work() as uow:
        query = select(Handoff).where(Handoff.status != "intake").order_by(Handoff.id)
        if open_only:
            query = query.where(Handoff.status.in_(("open", "claimed")))
        rows = list(await uow.session.scalars(query))
    lines = []
    for row in rows:
        start = row.opened_at or row.created_at
        lines.append(
            HandoffLine(
                row.id,
                row.status,
                row.topic or "-",
                row.language,
                row.created_at,
                row.claimed_at - start if row.claimed_at else None,
                row.closed_at - start if row.closed_at and row.status == "closed" else None,
            )
        )
    return lines


def median_to_claim(lines: list[HandoffLine]) -> timedelta | None:
    claimed = [line.to_claim.total_seconds() for line in lines if line.to_claim is not None]
    return timedelta(seconds=statistics.median(claimed)) if claimed else None
