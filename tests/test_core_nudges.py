"""Nudge timing and wording, without a database, a scheduler or a clock."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.core.nudges import (
    ASK_PAUSE_TEXT,
    CONTINUE_LABEL,
    LATER_LABEL,
    PAUSE_LABEL,
    STOP_LABEL,
    NudgeContext,
    NudgeDecision,
    NudgeKind,
    NudgePolicy,
    NudgeState,
    after_learner_activity,
    after_nudge_sent,
    decide_nudge,
    next_nudge_at,
    nudge_message,
    pause,
    resume,
    snooze,
    stop,
)
from bot.core.text import CourseText, Msg

POLICY = NudgePolicy()
PARIS = "Europe/Paris"
ZONES = (
    PARIS,
    "America/New_York",
    "Asia/Kabul",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
)


def local(zone: str, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A wall-clock time in ``zone``, as the aware UTC datetime the core works with."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def wall(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def learner(active_at: datetime, zone: str = PARIS, **changes: Any) -> NudgeState:
    return replace(NudgeState(last_activity_at=active_at, timezone=zone), **changes)


def run_sweeps(
    state: NudgeState,
    start: datetime,
    days: int,
    every: timedelta = timedelta(minutes=10),
    policy: NudgePolicy = POLICY,
) -> tuple[NudgeState, list[tuple[datetime, NudgeDecision]]]:
    """Sweep like the scheduler would, sending every nudge it decides."""
    sent = []
    now = start
    while now < start + timedelta(days=days):
        decision = decide_nudge(state, policy, now)
        if decision is not None:
            sent.append((now, decision))
            state = after_nudge_sent(state, now, decision)
        now += every
    return state, sent


def test_no_nudge_before_the_learner_has_done_anything() -> None:
    state = NudgeState(timezone=PARIS)
    now = local(PARIS, 2026, 5, 4, 12, 0)
    assert next_nudge_at(state, POLICY, now) is None
    assert decide_nudge(state, POLICY, now) is None


def test_the_first_nudge_comes_the_same_time_the_next_day() -> None:
    state = learner(local(PARIS, 2026, 5, 4, 12, 0))
    assert next_nudge_at(state, POLICY, local(PARIS, 2026, 5, 4, 12, 1)) == local(
        PARIS, 2026, 5, 5, 12, 0
    )
    assert decide_nudge(state, POLICY, local(PARIS, 2026, 5, 5, 11, 59)) is None
    decision = decide_nudge(state, POLICY, local(PARIS, 2026, 5, 5, 12, 0))
    assert decision is not None
    assert (decision.kind, decision.number) == (NudgeKind.LESSON, 1)


def test_nudges_wait_1_then_3_then_7_days_then_ask_once_whether_to_pause() -> None:
    state = learner(local(PARIS, 2026, 5, 4, 12, 0))
    state, sent = run_sweeps(state, local(PARIS, 2026, 5, 4, 12, 0), days=90)
    assert [(wall(at, PARIS), d.kind, d.number) for at, d in sent] == [
        (datetime(2026, 5, 5, 12, 0), NudgeKind.LESSON, 1),
        (datetime(2026, 5, 7, 12, 0), NudgeKind.LESSON, 2),
        (datetime(2026, 5, 11, 12, 0), NudgeKind.LESSON, 3),
        (datetime(2026, 5, 18, 12, 0), NudgeKind.ASK_PAUSE, 4),
    ]
    assert state.asked_to_pause
    assert next_nudge_at(state, POLICY, local(PARIS, 2026, 8, 1, 12, 0)) is None


def test_activity_starts_the_count_again() -> None:
    state = learner(local(PARIS, 2026, 5, 4, 12, 0))
    state, _ = run_sweeps(state, local(PARIS, 2026, 5, 4, 12, 0), days=4)
    assert state.nudges_unanswered == 2
    state = after_learner_activity(state, local(PARIS, 2026, 5, 8, 15, 30))
    assert state.nudges_unanswered == 0
    assert next_nudge_at(state, POLICY, local(PARIS, 2026, 5, 8, 15, 31)) == local(
        PARIS, 2026, 5, 9, 15, 30
    )


def test_after_the_pause_question_only_activity_brings_nudges_back() -> None:
    state = learner(local(PARIS, 2026, 5, 4, 12, 0))
    state, _ = run_sweeps(state, local(PARIS, 2026, 5, 4, 12, 0), days=20)
    state, sent = run_sweeps(state, local(PARIS, 2026, 5, 24, 12, 0), days=200)
    assert sent == []
    state = after_learner_activity(state, local(PARIS, 2026, 12, 10, 11, 0))
    assert not state.asked_to_pause
    assert decide_nudge(state, POLICY, local(PARIS, 2026, 12, 11, 11, 0)) is not None


def test_a_nudge_due_in_the_evening_waits_for_the_next_morning() -> None:
    state = learner(local(PARIS, 2026, 5, 4, 20, 30))
    assert next_nudge_at(state, POLICY, local(PARIS, 2026, 5, 4, 21, 0)) == local(
        PARIS, 2026, 5, 6, 10, 0
    )


def test_a_nudge_due_early_in_the_morning_waits_for_ten_o_clock() -> None:
    state = learner(local(PARIS, 2026, 5, 4, 6, 45))
    assert next_nudge_at(state, POLICY, local(PARIS, 2026, 5, 4, 7, 0)) == local(
        PARIS, 2026, 5, 5, 10, 0
    )


def test_a_sweep_that_runs_late_at_night_sends_nothing_and_waits_for_the_morning() -> None:
    state = learner(local(PARIS, 2026, 5, 4, 18, 0))
    late = local(PARIS, 2026, 5, 5, 23, 0)
    assert decide_nudge(state, POLICY, late) is None
    assert next_nudge_at(state, POLICY, late) == local(PARIS, 2026, 5, 6, 10, 0)


def test_a_nudge_already_sent_today_keeps_the_next_one_for_tomorrow() -> None:
    sent_at = local(PARIS, 2026, 5, 20, 10, 30)
    state = learner(local(PARIS, 2026, 5, 1, 12, 0), last_nudge_at=sent_at)
    assert decide_nudge(state, POLICY, local(PARIS, 2026, 5, 20, 18, 0)) is None
    assert next_nudge_at(state, POLICY, sent_at) == local(PARIS, 2026, 5, 21, 10, 0)


def test_a_clock_that_jumps_back_does_not_send_a_second_nudge_that_day() -> None:
    sent_at = local(PARIS, 2026, 5, 20, 15, 0)
    state = learner(local(PARIS, 2026, 5, 1, 12, 0), last_nudge_at=sent_at)
    assert decide_nudge(state, POLICY, local(PARIS, 2026, 5, 20, 11, 0)) is None
    assert decide_nudge(state, POLICY, local(PARIS, 2026, 5, 19, 16, 0)) is None


def test_the_same_local_day_counts_even_when_the_utc_dates_differ() -> None:
    zone = "Pacific/Kiritimati"
    sent_at = local(zone, 2026, 5, 20, 10, 0)  # 2026-05-19 20:00 UTC
    state = learner(local(zone, 2026, 5, 1, 12, 0), zone, last_nudge_at=sent_at)
    assert sent_at.date() != local(zone, 2026, 5, 20, 18, 0).date()
    assert decide_nudge(state, POLICY, local(zone, 2026, 5, 20, 18, 0)) is None
    assert decide_nudge(state, POLICY, local(zone, 2026, 5, 21, 10, 0)) is not None


def test_a_later_nudge_keeps_its_gap_after_a_nudge_that_was_held_back() -> None:
    active = local(PARIS, 2026, 5, 4, 12, 0)
    held_back = local(PARIS, 2026, 5, 20, 12, 0)
    state = learner(active, nudges_unanswered=1, last_nudge_at=held_back)
    assert next_nudge_at(state, POLICY, held_back) == local(PARIS, 2026, 5, 22, 12, 0)


def test_no_nudge_after_stop_even_with_activity() -> None:
    state = stop(learner(local(PARIS, 2026, 5, 4, 12, 0)))
    assert next_nudge_at(state, POLICY, local(PARIS, 2026, 5, 5, 12, 0)) is None
    state = after_learner_activity(state, local(PARIS, 2026, 5, 6, 12, 0))
    _, sent = run_sweeps(state, local(PARIS, 2026, 5, 6, 12, 0), days=30, every=timedelta(hours=1))
    assert sent == []


def test_resume_brings_nudges_back_after_stop_and_pause() -> None:
    state = pause(
        stop(learner(local(PARIS, 2026, 5, 4, 12, 0))), local(PARIS, 2026, 5, 4, 12, 0), 30
    )
    state = resume(state)
    assert not state.stopped
    assert state.paused_until is None
    assert decide_nudge(state, POLICY, local(PARIS, 2026, 5, 5, 12, 0)) is not None


def test_no_nudge_while_paused_then_one_at_the_first_window_after() -> None:
    state = learner(local(PARIS, 2026, 5, 4, 12, 0))
    state = pause(state, local(PARIS, 2026, 5, 4, 20, 0), 5)
    assert state.paused_until == local(PARIS, 2026, 5, 9, 20, 0)
    state, sent = run_sweeps(state, local(PARIS, 2026, 5, 4, 20, 0), days=6)
    assert [wall(at, PARIS) for at, _ in sent] == [datetime(2026, 5, 10, 10, 0)]


@pytest.mark.parametrize("days", [0, -1, 91, 365])
def test_pause_refuses_fewer_than_1_or_more_than_90_days(days: int) -> None:
    with pytest.raises(ValueError, match="from 1 to 90 days"):
        pause(NudgeState(), local(PARIS, 2026, 5, 4, 12, 0), days)


@pytest.mark.parametrize("days", [1, 90])
def test_pause_accepts_1_to_90_days(days: int) -> None:
    now = local(PARIS, 2026, 5, 4, 12, 0)
    assert pause(NudgeState(), now, days).paused_until == now + timedelta(days=days)


def test_pausing_when_asked_starts_the_count_again() -> None:
    state = learner(local(PARIS, 2026, 5, 4, 12, 0), nudges_unanswered=4, asked_to_pause=True)
    state = pause(state, local(PARIS, 2026, 5, 20, 12, 0), 7)
    assert (state.nudges_unanswered, state.asked_to_pause) == (0, False)
    assert next_nudge_at(state, POLICY, local(PARIS, 2026, 5, 20, 12, 0)) == local(
        PARIS, 2026, 5, 27, 12, 0
    )


def test_later_snoozes_until_the_next_morning() -> None:
    sent_at = local(PARIS, 2026, 5, 5, 12, 0)
    state = learner(local(PARIS, 2026, 5, 4, 12, 0), nudges_unanswered=1, last_nudge_at=sent_at)
    state = snooze(state, local(PARIS, 2026, 5, 5, 12, 5), POLICY)
    assert state.snoozed_until == local(PARIS, 2026, 5, 6, 10, 0)
    assert decide_nudge(state, POLICY, local(PARIS, 2026, 5, 6, 9, 59)) is None
    assert decide_nudge(state, POLICY, local(PARIS, 2026, 5, 6, 10, 0)) is not None


def test_later_on_the_pause_question_brings_a_nudge_the_next_day() -> None:
    state = learner(
        local(PARIS, 2026, 5, 4, 12, 0),
        nudges_unanswered=4,
        asked_to_pause=True,
        last_nudge_at=local(PARIS, 2026, 5, 18, 12, 0),
    )
    state = snooze(state, local(PARIS, 2026, 5, 18, 12, 5), POLICY)
    assert next_nudge_at(state, POLICY, local(PARIS, 2026, 5, 18, 12, 5)) == local(
        PARIS, 2026, 5, 19, 10, 0
    )


def test_activity_clears_a_snooze() -> None:
    state = snooze(
        learner(local(PARIS, 2026, 5, 4, 12, 0)), local(PARIS, 2026, 5, 4, 12, 0), POLICY
    )
    assert after_learner_activity(state, local(PARIS, 2026, 5, 4, 13, 0)).snoozed_until is None


def test_no_nudge_while_a_volunteer_hand_off_is_open() -> None:
    state = learner(local(PARIS, 2026, 5, 4, 12, 0), handoff_open=True)
    assert next_nudge_at(state, POLICY, local(PARIS, 2026, 5, 5, 12, 0)) is None
    assert decide_nudge(state, POLICY, local(PARIS, 2026, 5, 5, 12, 0)) is None


def test_the_window_opens_at_ten_on_the_day_paris_springs_forward() -> None:
    state = learner(local(PARIS, 2026, 3, 28, 7, 0))
    due = next_nudge_at(state, POLICY, local(PARIS, 2026, 3, 28, 7, 0))
    assert due == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    assert due is not None and wall(due, PARIS) == datetime(2026, 3, 29, 10, 0)


def test_same_time_tomorrow_across_the_paris_spring_and_autumn_changes() -> None:
    spring = learner(local(PARIS, 2026, 3, 28, 18, 30))
    assert next_nudge_at(spring, POLICY, local(PARIS, 2026, 3, 28, 19, 0)) == datetime(
        2026, 3, 29, 16, 30, tzinfo=UTC
    )
    autumn = learner(local(PARIS, 2026, 10, 24, 18, 30))
    assert next_nudge_at(autumn, POLICY, local(PARIS, 2026, 10, 24, 19, 0)) == datetime(
        2026, 10, 25, 17, 30, tzinfo=UTC
    )


def test_a_time_in_the_spring_gap_does_not_crash() -> None:
    state = learner(local(PARIS, 2026, 3, 28, 2, 30))
    due = next_nudge_at(state, POLICY, local(PARIS, 2026, 3, 28, 3, 0))
    assert due is not None and wall(due, PARIS) == datetime(2026, 3, 29, 10, 0)


@pytest.mark.parametrize(
    ("day", "utc_hour"), [((2026, 3, 8), 14), ((2026, 11, 1), 15), ((2026, 3, 7), 15)]
)
def test_the_window_opens_at_ten_in_new_york_whatever_the_season(
    day: tuple[int, int, int], utc_hour: int
) -> None:
    zone = "America/New_York"
    state = learner(local(zone, *day, 7, 0) - timedelta(days=1), zone)
    assert next_nudge_at(state, POLICY, local(zone, *day, 0, 0) - timedelta(days=1)) == datetime(
        *day, utc_hour, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("zone", "utc"),
    [
        ("Asia/Kabul", datetime(2026, 5, 5, 7, 30, tzinfo=UTC)),
        ("Pacific/Kiritimati", datetime(2026, 5, 4, 22, 0, tzinfo=UTC)),
        ("Pacific/Pago_Pago", datetime(2026, 5, 5, 23, 0, tzinfo=UTC)),
    ],
)
def test_the_next_day_at_noon_in_far_zones(zone: str, utc: datetime) -> None:
    state = learner(local(zone, 2026, 5, 4, 12, 0), zone)
    assert next_nudge_at(state, POLICY, local(zone, 2026, 5, 4, 12, 0)) == utc


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../../etc/passwd", "Europe/Paris "])
def test_an_unknown_time_zone_falls_back_to_the_configured_one(zone: str) -> None:
    state = learner(local(PARIS, 2026, 5, 4, 20, 30), zone)
    assert next_nudge_at(state, POLICY, local(PARIS, 2026, 5, 4, 21, 0)) == local(
        PARIS, 2026, 5, 6, 10, 0
    )
    new_york = NudgePolicy(fallback_timezone="America/New_York")
    due = next_nudge_at(state, new_york, local(PARIS, 2026, 5, 4, 21, 0))
    assert due is not None and wall(due, "America/New_York").time() == time(14, 30)


def test_naive_times_from_the_database_are_read_as_utc() -> None:
    state = learner(datetime(2026, 5, 4, 10, 0))
    assert next_nudge_at(state, POLICY, datetime(2026, 5, 4, 11, 0)) == datetime(
        2026, 5, 5, 10, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"window_end": time(21, 30)},
        {"window_start": time(8, 0)},
        {"window_start": time(15, 0), "window_end": time(12, 0)},
        {"window_start": time(0, 0), "window_end": time(23, 59)},
        {"delays_days": (3, 1, 7)},
        {"delays_days": ()},
        {"max_unanswered": 4},
        {"max_unanswered": 0},
        {"fallback_timezone": "Nowhere/Land"},
    ],
)
def test_a_policy_that_would_nudge_at_night_or_makes_no_sense_is_refused(
    changes: dict[str, object],
) -> None:
    with pytest.raises(ValueError):
        NudgePolicy(**changes)  # type: ignore[arg-type]


def test_the_widest_window_allowed_is_nine_to_nine() -> None:
    policy = NudgePolicy(window_start=time(9, 0), window_end=time(21, 0))
    state = learner(local(PARIS, 2026, 5, 4, 20, 30))
    assert next_nudge_at(state, policy, local(PARIS, 2026, 5, 4, 21, 0)) == local(
        PARIS, 2026, 5, 5, 20, 30
    )


@pytest.mark.parametrize(
    "policy", [POLICY, NudgePolicy(window_start=time(9, 0), window_end=time(21, 0))]
)
def test_a_year_of_sweeps_never_nudges_at_night_nor_twice_a_day(policy: NudgePolicy) -> None:
    """Learners who come and go, pause and snooze, swept every 37 minutes for 400 days."""
    for zone in ZONES:
        rng = random.Random(zone)
        now = local(zone, 2026, 1, 1, 0, 0)
        state = learner(now, zone)
        nudge_days = []
        for _ in range(400 * 24 * 60 // 37):
            now += timedelta(minutes=37)
            roll = rng.random()
            if roll < 0.003:
                state = after_learner_activity(state, now)
            elif roll < 0.0035:
                state = pause(state, now, rng.randint(1, 10))
            elif roll < 0.004:
                state = snooze(state, now, policy)
            decision = decide_nudge(state, policy, now)
            if decision is None:
                continue
            at = wall(now, zone)
            assert policy.window_start <= at.time() < policy.window_end, (zone, at)
            assert time(9, 0) <= at.time() < time(21, 0), (zone, at)
            assert at.date() not in nudge_days, (zone, at)
            assert state.paused_until is None or now >= state.paused_until
            assert state.snoozed_until is None or now >= state.snoozed_until
            nudge_days.append(at.date())
            state = after_nudge_sent(state, now, decision)
        assert len(nudge_days) > 40, zone


def test_the_decision_key_is_stable_until_the_nudge_is_sent() -> None:
    state = learner(local(PARIS, 2026, 5, 4, 12, 0))
    now = local(PARIS, 2026, 5, 5, 12, 0)
    first, again = decide_nudge(state, POLICY, now), decide_nudge(state, POLICY, now)
    assert first is not None and again is not None and first.key == again.key
    state = after_nudge_sent(state, now, first)
    following = decide_nudge(state, POLICY, local(PARIS, 2026, 5, 7, 12, 0))
    assert following is not None and following.key != first.key


def lesson_nudge(number: int) -> NudgeDecision:
    return NudgeDecision(NudgeKind.LESSON, number, f"key-{number}")


def test_nudge_texts_are_chosen_the_same_way_every_time() -> None:
    context = NudgeContext(seed="learner-42")
    assert nudge_message(lesson_nudge(2), context) == nudge_message(lesson_nudge(2), context)


def test_there_are_at_least_three_wordings_and_two_in_a_row_differ() -> None:
    for context in (NudgeContext("a"), NudgeContext("b", lesson_title=CourseText("x/title", "X"))):
        texts = [nudge_message(lesson_nudge(n), context).msgid for n in range(1, 7)]
        assert len(set(texts)) >= 3
        assert all(a != b for a, b in pairwise(texts))


def test_a_nudge_names_the_lesson_in_progress() -> None:
    title = CourseText("first/title", "First steps")
    for number in (1, 2, 3):
        message = nudge_message(lesson_nudge(number), NudgeContext("7", lesson_title=title))
        assert "{title}" in message.msgid
        assert message.params["title"] == title


def test_a_nudge_may_mention_the_streak_with_a_plural() -> None:
    context = NudgeContext("7", streak_days=5)
    messages = [nudge_message(lesson_nudge(n), context) for n in range(1, 5)]
    streak = [m for m in messages if m.plural is not None]
    assert streak
    assert streak[0].n == 5
    assert streak[0].params["n"] == 5
    single_day = NudgeContext("7", streak_days=1)
    assert all(nudge_message(lesson_nudge(n), single_day).plural is None for n in range(1, 5))


def test_the_pause_question_and_its_choice_labels_are_interface_text() -> None:
    ask = NudgeDecision(NudgeKind.ASK_PAUSE, 4, "k")
    assert nudge_message(ask, NudgeContext("7")) == ASK_PAUSE_TEXT
    assert "pause" in ASK_PAUSE_TEXT.msgid
    labels = (CONTINUE_LABEL, LATER_LABEL, PAUSE_LABEL, STOP_LABEL)
    assert all(isinstance(label, Msg) for label in labels)
    assert len({label.msgid for label in labels}) == 4
