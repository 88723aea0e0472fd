"""The core with what a stranger, a typo or a forged button sends: text, never a crash."""

from __future__ import annotations

import pytest

from bot.core.effects import HandoffAction
from bot.core.numbers import payload_number, typed_number
from bot.core.state import HelpRequest, RequestStatus
from bot.course.answer_patterns import matches
from tests.builders import button, command, text
from tests.core_journey import CoreJourney


def at_the_menu() -> CoreJourney:
    journey = CoreJourney()
    journey.send(command("start"))
    journey.send(button("lang:en"))
    return journey


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("2", 2),
        (" 12 ", 12),
        ("٢", 2),  # Arabic-Indic
        ("۲", 2),  # Extended Arabic-Indic, as typed in Dari and Pashto
        ("२", 2),  # Devanagari
        ("፪", 2),  # Ethiopic
        ("፲", 10),
        ("²", None),
        ("³", None),
        ("①", None),
        ("٣3", None),  # two scripts in one number
        ("1" * 5000, None),
        ("-1", None),
        ("1.5", None),
        ("", None),
    ],
)
def test_a_typed_number_is_in_one_script_of_real_digits(typed: str, number: int | None) -> None:
    assert typed_number(typed) == number


@pytest.mark.parametrize("raw", ["²", "٢", "01", "-1", "1e3", "99999", "", " 1", "9" * 30])
def test_a_payload_number_is_plain_ascii(raw: str) -> None:
    assert payload_number(raw) is None


@pytest.mark.parametrize("typed", ["²", "³", "①", "1" * 40])
def test_a_superscript_or_circled_digit_at_the_menu_is_just_not_understood(typed: str) -> None:
    journey = at_the_menu()
    said = journey.send(text(typed))
    assert said[0] == "I did not understand. Tap a button or type its number."
    assert journey.records() == ["input_refused"]


@pytest.mark.parametrize("typed", ["١", "۱", "१", "፩"])
def test_a_learner_picks_the_first_option_with_the_digits_of_their_script(typed: str) -> None:
    journey = at_the_menu()
    journey.send(text(typed))
    assert journey.buttons()[0] == "First steps (2 min)"


@pytest.mark.parametrize(
    "payload", ["ans:first/colour/²", "ans:first/colour/01", "tz:²", "tz:99999999999999999999"]
)
def test_a_forged_number_in_a_button_is_an_old_button(payload: str) -> None:
    journey = at_the_menu()
    journey.send(button("les:first"))
    journey.send(text("1"))
    said = journey.send(button(payload))
    assert said[0] in (
        "This button is from an earlier message.",
        "This button does not work any more.",
    )
    assert "quiz_answered" not in journey.records()


def test_a_forged_rating_is_refused() -> None:
    journey = at_the_menu()
    journey.state = journey.state.__class__(
        **{**journey.state.__dict__, "request": HelpRequest(id=7, status=RequestStatus.RATING)}
    )
    for forged in ("ho:rate/12345", "ho:rate/0", "ho:rate/²", "ho:rate/45"):
        journey.send(button(forged))
        assert not [e for e in journey.effects if isinstance(e, HandoffAction)], forged
    journey.send(button("ho:rate/4"))
    rated = [e for e in journey.effects if isinstance(e, HandoffAction)]
    assert [(e.kind, e.rating) for e in rated] == [("rate", 4)]


@pytest.mark.parametrize(
    ("argument", "said"),
    [
        ("٣", "OK. No reminders for 3 days. Send /resume to get them again."),
        ("99999999999", "Send /pause and a number of days from 1 to 90, for example /pause 7."),
        ("²", "Send /pause and a number of days from 1 to 90, for example /pause 7."),
    ],
)
def test_pause_takes_the_learners_digits_and_refuses_the_rest(argument: str, said: str) -> None:
    journey = at_the_menu()
    event = command("pause")
    event = event.__class__(**{**event.__dict__, "argument": argument})
    assert journey.send(event)[0] == said


@pytest.mark.parametrize(
    ("pattern", "answer", "fits"),
    [
        (r"\S+@\S+\.\S+", "sara.martin@gmail.com", True),
        (r"\S+@\S+\.\S+", "@" * 4096, False),
        (r"\S+@\S+\.\S+", "a@" * 2048, False),
        (r"\w+\W+\w+", "جواز سفر", True),  # two words in Arabic
        (r"\w+\W+\w+", "паспорт ОФИИ", True),
        (r"\d", "٣", True),
        (r"^\W*ok(ay)?\W*$", " OK! ", True),
        (r"^yes$", "yes" + "!" * 5000, False),
    ],
)
def test_answer_patterns_run_in_linear_time_and_know_every_script(
    pattern: str, answer: str, fits: bool
) -> None:
    assert matches(pattern, answer) is fits
