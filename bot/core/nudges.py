"""Nudges: when to remind a quiet learner, and what to say."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.quiet_hours import DailyWindow, as_utc, days_later, learner_zone, local_day
from bot.core.text import N_, Msg, Np_, Text

MIN_PAUSE_DAYS = 1
MAX_PAUSE_DAYS = 90


class NudgeKind(StrEnum):
    LESSON = "lesson"
    ASK_PAUSE = "ask_pause"


@dataclass(frozen=True)
class NudgePolicy:
    """How the coach reminds a learner who went quiet.

    The k-th unanswered reminder is due ``delays_days[k]`` local days after the last
    activity, and never sooner after the previous one than the planned gap. After
    ``max_unanswered`` of them comes one "shall I pause?" question,
    ``ask_pause_after_days`` after the last reminder, then silence. Everything goes out
    inside the local daytime window, at most once per local day.
    """

    delays_days: tuple[int, ...] = (1, 3, 7)
    window_start: time = time(10, 0)
    window_end: time = time(19, 0)
    max_unanswered: int = 3
    ask_pause_after_days: int = 7
    fallback_timezone: str = "Europe/Paris"

    def __post_init__(self) -> None:
        DailyWindow(self.window_start, self.window_end)
        days = self.delays_days
        if not days or days[0] < 1 or any(a >= b for a, b in pairwise(days)):
            raise ValueError(f"Nudge delays must be growing whole days from 1 on, not {days}.")
        if not 1 <= self.max_unanswered <= len(days):
            raise ValueError(
                f"max_unanswered must be from 1 to {len(days)} (one delay each), "
                f"not {self.max_unanswered}."
            )
        if self.ask_pause_after_days < 1:
            raise ValueError("ask_pause_after_days must be at least 1.")
        try:
            ZoneInfo(self.fallback_timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"Unknown fallback time zone {self.fallback_timezone!r}.") from error

    @property
    def window(self) -> DailyWindow:
        return DailyWindow(self.window_start, self.window_end)


@dataclass(frozen=True)
class NudgeState:
    """What the nudge policy needs to know about one learner.

    Times are aware UTC (naive ones are read as UTC). An empty or unknown ``timezone``
    means the policy's fallback zone.
    """

    last_activity_at: datetime | None = None
    nudges_unanswered: int = 0
    last_nudge_at: datetime | None = None
    paused_until: datetime | None = None
    stopped: bool = False
    asked_to_pause: bool = False
    snoozed_until: datetime | None = None
    timezone: str = ""
    handoff_open: bool = False


@dataclass(frozen=True)
class NudgeDecision:
    """A reminder to send now; ``key`` is the same each time this one is decided."""

    kind: NudgeKind
    number: int
    key: str


def next_nudge_at(state: NudgeState, policy: NudgePolicy, now: datetime) -> datetime | None:
    """When the next reminder may go (UTC, never before ``now``), or None for never."""
    zone = _zone(state, policy)
    planned = _planned_at(state, policy, zone)
    if planned is None:
        return None
    holds = (as_utc(t) for t in (state.paused_until, state.snoozed_until) if t is not None)
    earliest = max(planned, as_utc(now), *holds)
    return policy.window.first_open(earliest, zone, after_day=_last_nudge_day(state, zone))


def decide_nudge(state: NudgeState, policy: NudgePolicy, now: datetime) -> NudgeDecision | None:
    """The reminder to send at ``now``, or None when nothing may go right now."""
    now = as_utc(now)
    kind = _next_kind(state, policy)
    due = next_nudge_at(state, policy, now)
    if kind is None or due is None or due > now:
        return None
    # Checked once more at send time: a late sweep or a jumping clock must not write
    # at night, nor twice on one local day.
    zone = _zone(state, policy)
    last_day = _last_nudge_day(state, zone)
    if not policy.window.contains(now, zone) or (
        last_day is not None and local_day(now, zone) <= last_day
    ):
        return None
    return NudgeDecision(kind, state.nudges_unanswered + 1, _key(state))


def after_nudge_sent(state: NudgeState, now: datetime, decision: NudgeDecision) -> NudgeState:
    """Count the reminder just sent; after the pause question, stay silent."""
    return replace(
        state,
        nudges_unanswered=state.nudges_unanswered + 1,
        last_nudge_at=as_utc(now),
        asked_to_pause=state.asked_to_pause or decision.kind is NudgeKind.ASK_PAUSE,
    )


def after_learner_activity(state: NudgeState, now: datetime) -> NudgeState:
    """The learner did something: the count of reminders starts again from this moment."""
    return replace(
        state,
        last_activity_at=as_utc(now),
        nudges_unanswered=0,
        asked_to_pause=False,
        snoozed_until=None,
    )


def snooze(state: NudgeState, now: datetime, policy: NudgePolicy) -> NudgeState:
    """“Later”: nothing before tomorrow's window; the learner answered, so count afresh."""
    zone = _zone(state, policy)
    tomorrow = local_day(now, zone) + timedelta(days=1)
    until = policy.window.opening(tomorrow, zone)
    return replace(_answered(state), snoozed_until=until)


def pause(state: NudgeState, now: datetime, days: int) -> NudgeState:
    """``/pause N``: no reminder for ``days`` days (1 to 90)."""
    if not MIN_PAUSE_DAYS <= days <= MAX_PAUSE_DAYS:
        raise ValueError(
            f"A pause lasts from {MIN_PAUSE_DAYS} to {MAX_PAUSE_DAYS} days, not {days}."
        )
    return replace(_answered(state), paused_until=as_utc(now) + timedelta(days=days))


def resume(state: NudgeState) -> NudgeState:
    """Reminders on again: no pause, no snooze, not stopped."""
    return replace(_answered(state), paused_until=None, snoozed_until=None, stopped=False)


def stop(state: NudgeState) -> NudgeState:
    """No reminder any more, until ``resume``."""
    return replace(state, stopped=True)


def _answered(state: NudgeState) -> NudgeState:
    return replace(state, nudges_unanswered=0, asked_to_pause=False)


def _zone(state: NudgeState, policy: NudgePolicy) -> ZoneInfo:
    return learner_zone(state.timezone, policy.fallback_timezone)


def _last_nudge_day(state: NudgeState, zone: ZoneInfo) -> date | None:
    return None if state.last_nudge_at is None else local_day(state.last_nudge_at, zone)


def _next_kind(state: NudgeState, policy: NudgePolicy) -> NudgeKind | None:
    if state.stopped or state.handoff_open or state.last_activity_at is None:
        return None
    if state.nudges_unanswered < policy.max_unanswered:
        return NudgeKind.LESSON
    return None if state.asked_to_pause else NudgeKind.ASK_PAUSE


def _planned_at(state: NudgeState, policy: NudgePolicy, zone: ZoneInfo) -> datetime | None:
    """When the next reminder is planned, before hours, holds and "once a day"."""
    kind = _next_kind(state, policy)
    if kind is None or state.last_activity_at is None:
        return None
    activity = as_utc(state.last_activity_at)
    previous = None if state.last_nudge_at is None else as_utc(state.last_nudge_at)
    sent, delays = state.nudges_unanswered, policy.delays_days
    if kind is NudgeKind.ASK_PAUSE:
        return days_later(previous or activity, policy.ask_pause_after_days, zone)
    planned = days_later(activity, delays[sent], zone)
    if sent and previous is not None:
        planned = max(planned, days_later(previous, delays[sent] - delays[sent - 1], zone))
    return planned


def _key(state: NudgeState) -> str:
    def stamp(moment: datetime | None) -> int:
        return 0 if moment is None else int(as_utc(moment).timestamp())

    number = state.nudges_unanswered + 1
    return f"nudge:{stamp(state.last_activity_at)}:{number}:{stamp(state.last_nudge_at)}"


# What the reminders say.

CONTINUE_LABEL = N_("Continue learning")
LATER_LABEL = N_("Later")
PAUSE_LABEL = N_("Pause reminders")
STOP_LABEL = N_("Stop reminders")

ASK_PAUSE_TEXT = N_(
    "You have not had time for a lesson lately, and that is fine. "
    "Shall I pause my reminders for a while?"
)
PAUSE_USAGE = N_(
    "Send /pause and a number of days from {min} to {max}, for example /pause 7.",
    min=MIN_PAUSE_DAYS,
    max=MAX_PAUSE_DAYS,
)

STREAK_THRESHOLD = 2


@dataclass(frozen=True)
class NudgeContext:
    """What a reminder may mention; ``seed`` (e.g. the learner id) picks its wording."""

    seed: str
    streak_days: int = 0
    lesson_title: Text | None = None


Variant = Callable[[NudgeContext], Msg]

_START: tuple[Variant, ...] = (
    lambda c: N_("Hello! A new lesson is waiting for you. It takes only 2 minutes."),
    lambda c: N_("Shall we learn something new on your phone today?"),
    lambda c: N_("A few minutes today, and your phone gets easier to use. Shall we start?"),
)

_CONTINUE: tuple[Variant, ...] = (
    lambda c: N_("Your lesson “{title}” is waiting for you. Shall we go on?", title=c.lesson_title),
    lambda c: N_(
        "You are in the middle of “{title}”. A few minutes are enough.", title=c.lesson_title
    ),
    lambda c: N_("Ready to continue “{title}”? It only takes a moment.", title=c.lesson_title),
)

_STREAK_START: tuple[Variant, ...] = (
    lambda c: Np_(
        "You have learned {n} day in a row. Keep it going with a short lesson today!",
        "You have learned {n} days in a row. Keep it going with a short lesson today!",
        c.streak_days,
    ),
)

_STREAK_CONTINUE: tuple[Variant, ...] = (
    lambda c: Np_(
        "You have learned {n} day in a row! “{title}” is waiting for you.",
        "You have learned {n} days in a row! “{title}” is waiting for you.",
        c.streak_days,
        title=c.lesson_title,
    ),
)


def nudge_message(decision: NudgeDecision, context: NudgeContext) -> Msg:
    """The reminder's text, worded by ``seed`` and the reminder's number: stable for
    tests, and two reminders in a row in the same situation are worded differently."""
    if decision.kind is NudgeKind.ASK_PAUSE:
        return ASK_PAUSE_TEXT
    in_lesson = context.lesson_title is not None
    variants = _CONTINUE if in_lesson else _START
    if context.streak_days >= STREAK_THRESHOLD:
        variants = (_STREAK_CONTINUE if in_lesson else _STREAK_START) + variants
    index = (zlib.crc32(context.seed.encode()) + decision.number) % len(variants)
    return variants[index](context)
