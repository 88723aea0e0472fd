"""Asking for a person, when the learner slips: the coach asks its question again."""

from __future__ import annotations

from bot.core.events import InboundKind
from tests.builders import button, command, media, text
from tests.core_journey import CoreJourney


def at_the_menu() -> CoreJourney:
    journey = CoreJourney()
    journey.send(command("start"))
    journey.send(button("lang:en"))
    return journey


def test_a_slip_during_the_intake_asks_the_pending_question_again_not_the_menu() -> None:
    journey = at_the_menu()
    journey.send(command("help"))
    said = journey.send(media(InboundKind.STICKER))
    assert said == [
        "Thank you! I cannot use this here.",
        "A volunteer can help you. What is it about?",
    ]
    assert "Cancel my request" in journey.buttons()
    journey.send(button(journey.payload_for("E-mail")))
    said = journey.send(text("9"))
    assert (
        said[-1] == "May the volunteer see your first name? They never see your number or account."
    )


def test_a_wrong_number_with_one_button_says_to_tap_it_or_type_1() -> None:
    journey = at_the_menu()
    journey.send(button("les:first"))
    assert len(journey.buttons()) == 1
    said = journey.send(text("5"))
    assert said[0] == "Please tap the button, or type 1."


def test_cancel_with_no_request_says_so_and_shows_where_the_learner_is() -> None:
    journey = at_the_menu()
    said = journey.send(command("cancel"))
    assert said[0] == "You have no request for a person to cancel."
    assert journey.buttons()[0] == "Basics"


def test_with_no_drop_in_place_the_coach_does_not_ask_where() -> None:
    journey = at_the_menu()
    journey.send(command("help"))
    said = journey.send(button(journey.payload_for("E-mail")))
    assert said == ["May the volunteer see your first name? They never see your number or account."]
