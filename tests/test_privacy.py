"""What the coach keeps, told and shown to the learner: the notice, /privacy, /mydata and
the question before /forget, in the pure core."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.core.privacy import ERASED, FORGET_WORDS, answers_forget
from bot.core.rules import Rules
from bot.core.state import LearnerStatus
from bot.core.volunteering import (
    GONE,
    ONLY_VOLUNTEERS,
    AskForget,
    Facts,
    Forget,
    Refused,
    Write,
    read_button,
    read_message,
)
from bot.i18n import Catalogs
from tests.builders import LANGUAGES, NOW, button, command, text
from tests.conftest import ROOT
from tests.core_journey import CoreJourney

NOTICE = (
    "🔒 I keep your progress, your first name, and your messages to a volunteer while your "
    "request is open (then 30 days at most).\n"
    "Only the volunteer who helps you sees your messages, never your phone number.\n"
    "/mydata shows what I keep. /forget erases it all. /privacy shows this again."
)
FORGET = {"en": frozenset({"forget me", "delete my data"}), "fr": frozenset({"oublie-moi"})}
QUESTION = (
    "Do you want me to erase everything I keep about you? Your progress, your requests and "
    "your messages to volunteers will be gone. This cannot be undone."
)


def at_the_menu(language: str = "en") -> CoreJourney:
    journey = CoreJourney(rules=Rules(LANGUAGES, forget_words=FORGET))
    journey.send(command("start"))
    journey.send(button(f"lang:{language}"))
    return journey


def test_the_notice_comes_with_the_first_words_in_the_chosen_language() -> None:
    journey = CoreJourney()
    journey.send(command("start"))
    said = journey.send(button("lang:en"))
    assert said[0].startswith("Each lesson takes 1 to 3 minutes.")
    assert said[0].endswith(NOTICE)
    assert journey.buttons()[-1] == "Save data: no pictures"  # the menu still comes last
    journey.send(button("language"))
    changed = journey.send(button("lang:fr"))  # the notice comes once, not at each change
    assert not any("/privacy" in said for said in changed)


def test_privacy_shows_the_notice_again() -> None:
    journey = at_the_menu()
    assert journey.send(command("privacy")) == [NOTICE]


def test_mydata_says_what_is_kept() -> None:
    journey = at_the_menu()
    journey.send(command("pause"))
    said = journey.send(command("mydata"))
    assert said[0].split("\n")[:3] == [
        "What I keep about you:",
        "Lessons done: 0 of 2",
        "Language: English",
    ]
    assert "Reminders: paused until" in said[0]
    assert "First name: Amina" in said[0]
    assert "Requests for a person: none open" in said[0]
    assert "A volunteer sees nothing about you unless you ask for a person." in said[0]
    journey.send(command("help"))
    journey.send(button("ho:topic/email"))
    journey.send(button("ho:name/yes"))
    said = journey.send(command("mydata"))
    assert "Requests for a person: one open" in said[0]
    assert (
        "A volunteer sees: your first name, your language, your topic and your messages" in said[0]
    )


def test_mydata_in_french_uses_the_french_catalog(tmp_path: Path) -> None:
    journey = at_the_menu("fr")
    said = journey.send(command("mydata"))
    french = Catalogs(ROOT / "locales", ["en", "fr"], "en")
    reply = [r for r in journey.replies()][-1]
    rendered = "\n".join(french.render(p, "fr") for p in reply.parts)
    assert "Français" in rendered and "Amina" in rendered
    assert said[0].startswith("What I keep about you:")  # the English rendering of the same


def test_forget_asks_first_and_no_keeps_everything() -> None:
    journey = at_the_menu()
    assert journey.send(command("forget")) == [QUESTION]
    assert journey.buttons() == ["Yes, erase everything", "No, keep it"]
    assert journey.send(button("forget:no")) == ["OK. Nothing was erased."]
    assert ERASED not in journey.records()
    assert journey.state.language == "en"


def test_yes_or_its_number_asks_the_service_to_erase() -> None:
    journey = at_the_menu()
    journey.send(command("delete"))
    said = journey.send(text("1"))
    assert said == [
        "Done. I erased everything I kept about you. If you write again, we start from zero."
    ]
    assert journey.records() == [ERASED]


def test_the_words_alone_in_the_learners_language_ask_too() -> None:
    journey = at_the_menu("fr")
    assert journey.send(text("Oublie-moi !")) == [QUESTION]
    journey = at_the_menu()
    assert journey.send(text("Forget me")) == [QUESTION]
    assert journey.send(text("please forget me later")) != [QUESTION]


def test_a_learner_who_stopped_the_coach_can_still_erase() -> None:
    journey = at_the_menu()
    journey.send(command("stop"))
    assert journey.state.status is LearnerStatus.STOPPED
    assert journey.send(command("forget")) == [QUESTION]
    journey.now = NOW + timedelta(minutes=1)
    journey.send(button("forget:yes"))
    assert journey.records() == [ERASED]


def test_the_forget_words_are_a_catalog_entry() -> None:
    assert FORGET_WORDS.msgid.startswith("forget me")


def test_the_notice_says_the_days_the_operator_set() -> None:
    journey = CoreJourney(rules=Rules(LANGUAGES, request_kept_days=14))
    journey.send(command("start"))
    journey.send(button("lang:en"))
    assert "(then 14 days at most)" in journey.send(command("privacy"))[0]


def test_a_volunteer_asks_to_be_erased_by_command_or_words_and_only_a_volunteer_may() -> None:
    volunteer = Facts(volunteer=True, held=(7,))
    assert read_message(command("forget"), volunteer) == AskForget()
    assert read_message(text("forget me"), Facts(True, forget_words=True)) == AskForget()
    # Without the words, a volunteer's text goes to the learner they help, as before.
    assert isinstance(read_message(text("forget me"), volunteer), Write)
    assert read_message(command("forget"), Facts(volunteer=False)) is None  # a learner's
    assert read_button("vol:forget/yes", volunteer) == Forget(confirmed=True)
    assert read_button("vol:forget/no", volunteer) == Forget(confirmed=False)
    assert read_button("vol:forget/yes", Facts(volunteer=False)) == Refused(ONLY_VOLUNTEERS)
    assert read_button("vol:forget/maybe", volunteer) == Refused(GONE)


def test_a_press_on_the_question_from_someone_unknown_is_an_old_question() -> None:
    assert answers_forget(button("forget:yes")) and answers_forget(button("forget:no"))
    assert not answers_forget(button("lang:en")) and not answers_forget(text("forget:yes"))
