"""For coordinators: requests for a person with their times to claim and to close."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.services.figures import PREVIEW_OPENED
from bot.store.tables import EventRow, Handoff, Learner
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


@dataclass(frozen=True)
class HandoffRecord:
    """One request as the figures see it: no learner, no text."""

    day: str
    language: str
    place: str
    status: str
    outcome: str | None
    rating: int | None
    to_claim: float | None  # seconds
    to_close: float | None


@dataclass(frozen=True)
class Times:
    """Median and 90th percentile, in minutes; None when fewer than 5 requests had one."""

    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class GroupFigures:
    name: str
    requests: int
    to_claim: Times
    to_close: Times


@dataclass(frozen=True)
class HandoffFigures:
    per_day: tuple[tuple[str, int], ...]
    overall: GroupFigures
    by_language: tuple[GroupFigures, ...]
    by_place: tuple[GroupFigures, ...]
    outcomes: tuple[tuple[str, int], ...]
    ratings: tuple[tuple[int, int], ...]


def times(seconds: list[float], small: int = 5) -> Times:
    if len(seconds) < small:
        return Times(len(seconds), None, None)
    minutes = sorted(s / 60 for s in seconds)
    p90 = statistics.quantiles(minutes, n=10, method="inclusive")[-1]
    return Times(len(minutes), statistics.median(minutes), p90)


def group(name: str, records: list[HandoffRecord]) -> GroupFigures:
    return GroupFigures(
        name,
        len(records),
        times([r.to_claim for r in records if r.to_claim is not None]),
        times([r.to_close for r in records if r.to_close is not None]),
    )


async def handoff_records(
    store: Store,
    *,
    language: str | None = None,
    channel: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[HandoffRecord]:
    """Requests sent to volunteers (not those still being written), trainers' previews left
    out, created within the period."""
    previews = select(EventRow.learner_id).where(
        EventRow.name == PREVIEW_OPENED, EventRow.learner_id.is_not(None)
    )
    query = (
        select(Handoff)
        .join(Learner, Learner.id == Handoff.learner_id)
        .where(Handoff.status != "intake", Handoff.learner_id.not_in(previews))
        .order_by(Handoff.id)
    )
    if language:
        query = query.where(Handoff.language == language)
    if channel:
        query = query.where(Learner.channel == channel)
    if since is not None:
        query = query.where(Handoff.created_at >= since)
    if until is not None:
        query = query.where(Handoff.created_at < until)
    async with store.unit_of_work() as uow:
        rows = list(await uow.session.scalars(query))
    records = []
    for row in rows:
        start = row.opened_at or row.created_at
        claimed = (row.claimed_at - start).total_seconds() if row.claimed_at else None
        closed = row.status == "closed" and row.closed_at is not None
        records.append(
            HandoffRecord(
                row.created_at.date().isoformat(),
                row.language,
                row.place or "-",
                row.status,
                row.outcome,
                row.rating,
                claimed,
                (row.closed_at - start).total_seconds() if closed and row.closed_at else None,
            )
        )
    return records


def handoff_figures(records: list[HandoffRecord]) -> HandoffFigures:
    """Requests per day, times to claim and to close, outcomes and ratings."""
    days: dict[str, int] = {}
    languages: dict[str, list[HandoffRecord]] = {}
    places: dict[str, list[HandoffRecord]] = {}
    outcomes: dict[str, int] = {}
    ratings: dict[int, int] = {}
    for record in records:
        days[record.day] = days.get(record.day, 0) + 1
        languages.setdefault(record.language, []).append(record)
        places.setdefault(record.place, []).append(record)
        if record.outcome:
            outcomes[record.outcome] = outcomes.get(record.outcome, 0) + 1
        if record.rating is not None:
            ratings[record.rating] = ratings.get(record.rating, 0) + 1
    return HandoffFigures(
        tuple(sorted(days.items())),
        group("all", records),
        tuple(group(name, found) for name, found in sorted(languages.items())),
        tuple(group(name, found) for name, found in sorted(places.items())),
        tuple(sorted(outcomes.items())),
        tuple(sorted(ratings.items())),
    )
