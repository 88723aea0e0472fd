"""While a volunteer helps, all the learner sends goes to the volunteer; one button takes them
back to the lessons, and another back into the conversation."""

from __future__ import annotations

from dataclasses import replace

from bot.core import payloads
from bot.core.effects import HandoffAction
from bot.core.events import InboundKind
from bot.core.handoff import relay_choices
from bot.core.state import HelpRequest, RequestStatus
from tests.builders import button, command, media, text
from tests.core_journey import ENGLISH, CoreJourney

BACK = "Back to the lessons"
WRITE = "💬 Write to Nadia"


def helped_by_nadia() -> CoreJourney:
    """A learner who asked for a person; Nadia took the request."""
    journey = CoreJourney()
    journey.send(command("start"))
    journey.send(button("lang:en"))
    journey.send(command("help"))
    journey.send(button(journey.payload_for("E-mail")))
    journey.send(button(journey.payload_for("No, stay anonymous")))
    assert journey.state.request is not None
    claimed = replace(journey.state.request, status=RequestStatus.CLAIMED, id=7, volunteer="Nadia")
    journey.state = replace(journey.state, request=claimed)
    return journey


def relayed(journey: CoreJourney) -> list[HandoffAction]:
    return [e for e in journey.effects if isinstance(e, HandoffAction) and e.kind == "relay"]


def labels(request: HelpRequest) -> list[str]:
    return [ENGLISH.render(choice.label, "en") for choice in relay_choices(request)]


def test_typed_numbers_go_to_the_volunteer_in_any_script() -> None:
    journey = helped_by_nadia()
    for typed in ("1", "2", "3", "٣", "12"):
        assert journey.send(text(typed)) == []
        assert [action.text for action in relayed(journey)] == [typed]
    assert journey.state.request is not None
    assert journey.state.request.status is RequestStatus.CLAIMED


def at_step(journey: CoreJourney, lesson: str, step_id: str) -> None:
    """The learner is at this step of the lesson, and talking to the volunteer."""
    journey.send(button(payloads.lesson(lesson)))
    progress = journey.state.lesson_progress(lesson)
    assert progress is not None and journey.state.request is not None
    journey.state = replace(
        journey.state.with_progress(replace(progress, step_id=step_id)),
        request=replace(journey.state.request, in_lessons=False),
    )


def test_a_typed_practice_answer_and_a_photo_in_a_photo_task_go_to_the_volunteer() -> None:
    journey = helped_by_nadia()
    at_step(journey, "second", "word")
    assert journey.send(text("yes")) == []
    assert [action.text for action in relayed(journey)] == ["yes"]
    at_step(journey, "first", "photo")
    assert journey.send(media(InboundKind.PHOTO)) == []
    assert [action.media for action in relayed(journey)] == ["photo"]


def test_help_words_go_to_the_volunteer_too_and_commands_keep_working() -> None:
    journey = helped_by_nadia()
    assert journey.send(text("help")) == []
    assert [action.text for action in relayed(journey)] == ["help"]
    said = journey.send(command("help"))
    assert said == ["Nadia is helping you with your request."]
    assert journey.buttons() == [BACK, "Cancel my request"]
    said = journey.send(command("cancel"))
    assert said == ["Your request is cancelled. You can ask again at any time."]
    assert journey.state.request is None
    assert [e.kind for e in journey.effects if isinstance(e, HandoffAction)] == ["cancel"]


def test_back_to_the_lessons_makes_numbers_menu_choices_and_the_menu_leads_back() -> None:
    journey = helped_by_nadia()
    said = journey.send(button(payloads.handoff("lessons")))
    assert said[-1] == "What would you like to do?"
    assert journey.state.request is not None and journey.state.request.in_lessons
    assert journey.buttons()[:4] == ["Basics", "My progress", WRITE, "Language"]
    assert journey.send(text("1")) == ["Basics: choose a lesson."]
    assert relayed(journey) == []
    journey.send(command("menu"))
    said = journey.send(text("3"))
    assert said == [
        "Write your message here: I pass it on to Nadia. To go back to the lessons, tap the button."
    ]
    assert journey.buttons() == [BACK]
    assert journey.send(text("1")) == []
    assert [action.text for action in relayed(journey)] == ["1"]


def test_a_lesson_button_or_the_menu_command_leaves_the_conversation_for_the_lessons() -> None:
    journey = helped_by_nadia()
    journey.send(command("menu"))
    assert journey.state.request is not None and journey.state.request.in_lessons
    journey.send(button(payloads.handoff("talk")))
    assert journey.state.request is not None and not journey.state.request.in_lessons
    said = journey.send(button("les:first"))
    assert said[-1] == "Hello there."
    assert journey.state.request is not None and journey.state.request.in_lessons
    assert journey.send(text("1")) == ["Which is a colour?"]


def test_the_buttons_under_a_volunteers_message_depend_on_where_the_learner_is() -> None:
    claimed = HelpRequest(RequestStatus.CLAIMED, id=7, volunteer="Nadia")
    assert labels(claimed) == [BACK]
    assert labels(replace(claimed, in_lessons=True)) == [WRITE]
    anonymous = replace(claimed, volunteer=None, in_lessons=True)
    assert labels(anonymous) == ["💬 Write to the volunteer"]
    assert labels(HelpRequest(RequestStatus.OPEN, id=7)) == []
    assert labels(HelpRequest(RequestStatus.RATING, id=7)) == []
    payloads_given = [choice.payload for choice in relay_choices(replace(claimed, in_lessons=True))]
    assert all(payloads.parse(payload) is not None for payload in payloads_given)


def test_buttons_of_the_conversation_after_it_ended_offer_the_menu() -> None:
    journey = helped_by_nadia()
    journey.state = replace(journey.state, request=None)
    said = journey.send(button(payloads.handoff("talk")))
    assert said == ["This button is from an earlier message.", "What would you like to do?"]
    assert "🙋 Talk to a person" in journey.buttons()
    said = journey.send(button(payloads.handoff("lessons")))
    assert said == ["What would you like to do?"]


def test_the_coachs_answers_about_a_request_each_offer_a_way_back_to_the_lessons() -> None:
    journey = CoreJourney()
    journey.send(command("start"))
    journey.send(button("lang:en"))
    journey.send(command("help"))
    journey.send(button(journey.payload_for("E-mail")))
    said = journey.send(button(journey.payload_for("No, stay anonymous")))
    assert said[0].startswith("Thank you. I am asking the volunteers now.")
    assert BACK in journey.buttons()
    said = journey.send(command("cancel"))
    assert said == ["Your request is cancelled. You can ask again at any time."]
    assert journey.buttons() == [BACK]
    assert journey.send(text("1")) == ["What would you like to do?"]

    journey.state = replace(journey.state, request=HelpRequest(RequestStatus.RATING, id=7))
    journey.send(button(payloads.handoff("rate", "5")))
    assert journey.send(text("Very kind")) == ["Thank you for your answer."]
    assert journey.buttons() == [BACK]
    journey.state = replace(journey.state, request=HelpRequest(RequestStatus.RATING, id=8))
    journey.send(button(payloads.handoff("rate", "4")))
    assert journey.send(button(journey.payload_for("No comment"))) == ["Thank you for your answer."]
    assert journey.buttons() == [BACK]
