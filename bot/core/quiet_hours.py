"""When the coach may write first: a daytime window in the learner's local time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

QUIET_FROM = time(21, 0)
QUIET_UNTIL = time(9, 0)


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is read as UTC (SQLite drops the zone)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def learner_zone(name: str, fallback: str) -> ZoneInfo:
    """The learner's time zone, or ``fallback`` (then UTC) when the name is unknown."""
    for candidate in (name, fallback):
        try:
            return ZoneInfo(candidate)
        except (KeyError, ValueError, OSError, TypeError):
            continue
    return ZoneInfo("UTC")


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return as_utc(moment).astimezone(zone).date()


def days_later(moment: datetime, days: int, zone: ZoneInfo) -> datetime:
    """The same wall-clock time ``days`` local days later, in UTC (DST-proof)."""
    return (as_utc(moment).astimezone(zone) + timedelta(days=days)).astimezone(UTC)


@dataclass(frozen=True)
class DailyWindow:
    """Local hours ``[start, end)`` in which a first message may go out.

    It can never reach into the quiet hours, 21:00 to 09:00.
    """

    start: time = time(10, 0)
    end: time = time(19, 0)

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("The daytime window is in local time: give times without a zone.")
        if not QUIET_UNTIL <= self.start < self.end <= QUIET_FROM:
            raise ValueError(
                f"The daytime window {self.start:%H:%M}–{self.end:%H:%M} must start before it "
                f"ends and stay between {QUIET_UNTIL:%H:%M} and {QUIET_FROM:%H:%M}."
            )

    def contains(self, moment: datetime, zone: ZoneInfo) -> bool:
        """Whether the learner's wall clock shows a time inside the window."""
        wall = as_utc(moment).astimezone(zone).time()
        return self.start <= wall < self.end

    def opening(self, day: date, zone: ZoneInfo) -> datetime:
        """The window's start on a local day, in UTC.

        A start inside a spring-forward gap is read with the offset from before the
        change, so it moves later by the gap (02:30 becomes 03:30) and never fails.
        """
        return datetime.combine(day, self.start, tzinfo=zone).astimezone(UTC)

    def first_open(
        self, moment: datetime, zone: ZoneInfo, after_day: date | None = None
    ) -> datetime:
        """The first moment from ``moment`` on inside the window, and on a local day
        after ``after_day`` when it is given."""
        found = as_utc(moment)
        while True:
            wall = found.astimezone(zone)
            if after_day is not None and wall.date() <= after_day:
                target = self.opening(after_day + timedelta(days=1), zone)
            elif wall.time() < self.start:
                target = self.opening(wall.date(), zone)
            elif wall.time() >= self.end:
                target = self.opening(wall.date() + timedelta(days=1), zone)
            else:
                return found
            # Always move forward, even where a fall-back repeats the window's start.
            found = target if target > found else found + timedelta(minutes=15)
