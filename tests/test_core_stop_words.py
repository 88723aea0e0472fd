"""A learner who writes "STOP" alone, in their language, gets no more messages."""

from __future__ import annotations

from dataclasses import replace

from bot.app import words
from bot.core.reminders import STOP_WORDS
from bot.core.rules import Rules
from bot.core.state import LearnerStatus
from bot.i18n import Catalogs
from tests.builders import LANGUAGES, button, command, sender, text
from tests.conftest import ROOT
from tests.core_journey import CoreJourney

STOPS = {"en": frozenset({"stop", "unsubscribe"}), "fr": frozenset({"stop", "arrêt"})}


def at_the_menu(language: str = "en") -> CoreJourney:
    journey = CoreJourney(rules=Rules(LANGUAGES, stop_words=STOPS))
    journey.send(command("start"))
    journey.send(button(f"lang:{language}"))
    return journey


def test_stop_alone_stops_every_message_like_the_command() -> None:
    journey = at_the_menu()
    said = journey.send(text(" STOP! "))
    assert said == ["OK. I will not send you messages any more. Send /start to come back."]
    assert journey.state.status is LearnerStatus.STOPPED


def test_the_word_in_the_learners_language_stops_too() -> None:
    journey = at_the_menu("fr")
    journey.send(text("Arrêt"))
    assert journey.state.status is LearnerStatus.STOPPED


def test_stop_inside_a_sentence_or_in_group_talk_does_not() -> None:
    journey = at_the_menu()
    journey.send(text("how do I stop my phone ringing"))
    assert journey.state.status is LearnerStatus.ACTIVE
    in_group = replace(sender(), chat_id="-100", group=True)
    journey.send(text("stop", in_group))
    assert journey.state.status is LearnerStatus.ACTIVE


def test_each_catalog_lists_its_own_stop_words_beside_the_english_ones() -> None:
    catalogs = Catalogs(ROOT / "locales", ["en", "fr", "uk"], "en")
    listed = words(catalogs, STOP_WORDS)
    assert {"stop", "unsubscribe", "arrêt"} <= listed["fr"]
    assert "стоп" in listed["uk"] and "stop" in listed["uk"]
