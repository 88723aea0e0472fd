"""The placement at first contact: "Can you already …?", then a suggestion; never forced."""

from __future__ import annotations

from dataclasses import replace

from bot.core.events import InboundKind, Sender
from bot.core.rules import Rules
from bot.course.model import Course, Lesson, MessageStep, Module
from bot.course.placement import PlacementQuestion
from tests.builders import LANGUAGES, button, command, media, sample_course, text
from tests.core_journey import CoreJourney

INTRO = "A few quick questions, so I can suggest where to start. You can skip them."
ANSWERS = ["Yes", "No", "Skip"]
MENU_TOP = ["Basics", "Calls", "E-mail", "My progress"]


def _module(module_id: str, title: str) -> Module:
    lesson = Lesson(
        f"{module_id}-one", module_id, f"{title}: first", 1, (MessageStep("hi", "Hi."),)
    )
    return Module(module_id, title, (lesson,))


def placed_course() -> Course:
    """Three modules; the placement asks about the first two."""
    basics = sample_course().modules[0]
    return Course(
        "test",
        "Test course",
        "en",
        (basics, _module("calls", "Calls"), _module("mail", "E-mail")),
        (
            PlacementQuestion("basics", "Can you already send a photo?"),
            PlacementQuestion("calls", "Can you already make a video call?"),
        ),
    )


def newcomer(rules: Rules | None = None, who: Sender | None = None) -> CoreJourney:
    """A new learner who sent /start and chose English."""
    journey = CoreJourney(course=placed_course(), rules=rules or Rules(LANGUAGES))
    journey.send(command("start", who))
    journey.send(button("lang:en", who))
    return journey


def test_after_the_language_and_the_notice_the_first_question_comes_with_yes_no_skip() -> None:
    journey = newcomer()
    said = journey.texts()
    assert said[0].startswith("Each lesson takes 1 to 3 minutes.")
    assert "/privacy shows this again." in said[0]
    assert said[-1] == f"{INTRO}\nCan you already send a photo?"
    assert journey.buttons() == ANSWERS
    assert "placement_asked" in journey.records()


def test_yes_to_every_question_suggests_the_module_after_the_last_one_asked_about() -> None:
    journey = newcomer()
    assert journey.send(button(journey.payload_for("Yes"))) == [
        "Can you already make a video call?"
    ]
    assert journey.send(button(journey.payload_for("Yes"))) == ["Let's start with E-mail."]
    assert journey.buttons() == ["Start: E-mail: first", "Choose from the menu"]
    said = journey.send(button(journey.payload_for("Start: E-mail: first")))
    assert said[-1] == "Hi."
    assert journey.state.current_lesson == "mail-one"


def test_yes_to_every_question_about_the_last_modules_shows_the_menu_with_praise() -> None:
    course = placed_course()
    asked = (PlacementQuestion("calls", "Calls?"), PlacementQuestion("mail", "Mail?"))
    journey = CoreJourney(course=replace(course, placement=asked))
    journey.send(command("start"))
    journey.send(button("lang:en"))
    journey.send(text("1"))
    said = journey.send(text("1"))
    assert said == ["You already know a lot!\nWhat would you like to do?"]
    assert journey.buttons()[:4] == MENU_TOP


def test_the_first_no_stops_the_questions_and_suggests_that_module() -> None:
    journey = newcomer()
    journey.send(button(journey.payload_for("Yes")))
    said = journey.send(button(journey.payload_for("No")))
    assert said == ["Let's start with Calls."]
    assert journey.records() == ["placement_answered", "placement_suggested"]
    journey.send(button(journey.payload_for("Choose from the menu")))
    assert journey.buttons()[:4] == MENU_TOP


def test_no_to_the_first_question_suggests_the_most_basic_module() -> None:
    journey = newcomer()
    assert journey.send(button(journey.payload_for("No"))) == ["Let's start with Basics."]
    assert journey.buttons()[0] == "Start: First steps"


def test_answers_can_be_typed_as_numbers() -> None:
    journey = newcomer()
    assert journey.send(text("1")) == ["Can you already make a video call?"]
    assert journey.send(text("2")) == ["Let's start with Calls."]
    said = journey.send(text("1"))
    assert said[-1] == "Hi."
    assert journey.state.current_lesson == "calls-one"


def test_skip_goes_to_the_usual_menu() -> None:
    journey = newcomer()
    said = journey.send(text("3"))
    assert said == ["What would you like to do?"]
    assert journey.buttons()[:4] == MENU_TOP
    assert journey.records() == ["placement_skipped"]


def test_ignoring_the_question_leads_to_the_menu_and_any_lesson_can_be_taken() -> None:
    journey = newcomer()
    said = journey.send(media(InboundKind.STICKER))
    assert said == ["Thank you! I cannot use this here.", "What would you like to do?"]
    journey = newcomer()
    journey.send(button("les:second"))
    assert journey.state.current_lesson == "second"


def test_an_old_answer_button_is_refused_once_the_questions_are_over() -> None:
    journey = newcomer()
    old = journey.payload_for("Yes")
    journey.send(text("3"))
    said = journey.send(button(old))
    assert said == ["This button is from an earlier message.", "What would you like to do?"]
    assert journey.state.current_lesson is None


def test_a_returning_learner_is_not_asked_again() -> None:
    journey = newcomer()
    journey.send(text("3"))
    said = journey.send(command("start"))
    assert said == ["Welcome back!", "What would you like to do?"]
    journey.send(button("language"))
    said = journey.send(button("lang:fr"))
    assert said == ["Done. I will write to you in this language.", "What would you like to do?"]
    assert journey.buttons()[:4] == MENU_TOP


def test_with_several_time_zones_the_question_comes_after_the_time_zone() -> None:
    rules = Rules(LANGUAGES, timezones=("Europe/Paris", "Asia/Kabul"))
    journey = newcomer(rules)
    assert journey.texts()[-1] == "What time is it where you are now?"
    said = journey.send(text("2"))
    assert said[-1] == f"{INTRO}\nCan you already send a photo?"
    assert journey.state.timezone == "Asia/Kabul"


def test_a_learner_who_began_a_lesson_is_not_asked_when_choosing_a_time_zone() -> None:
    rules = Rules(LANGUAGES, timezones=("Europe/Paris", "Asia/Kabul"))
    journey = newcomer(rules)
    journey.send(button("les:second"))
    journey.send(command("timezone"))
    said = journey.send(text("1"))
    assert said[-1] == "What would you like to do?"
    assert journey.buttons()[0] == "Continue: Replies"


def test_a_learner_in_a_group_is_not_asked() -> None:
    group = Sender("test", "-100", "u8", first_name="Bilal", group=True)
    journey = newcomer(who=group)
    assert journey.texts()[-1] == "What would you like to do?"
    assert "placement_asked" not in journey.records()


def test_start_help_asks_for_a_person_not_the_placement() -> None:
    journey = CoreJourney(course=placed_course())
    journey.send(replace(command("start"), text="/start help", argument="help"))
    journey.send(button("lang:en"))
    assert journey.texts()[-1] == "A volunteer can help you. What is it about?"


def test_a_course_without_placement_shows_the_menu_at_first_contact() -> None:
    journey = CoreJourney()
    journey.send(command("start"))
    journey.send(button("lang:en"))
    assert journey.texts()[-1] == "What would you like to do?"
