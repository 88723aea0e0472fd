"""Draft translations, said so: a learner in a language whose catalogs are not reviewed is
told once that the translations are new, finds "🤔 Unclear" beside "Next" under each lesson
message, and flags one by button or number; the trainers see which step, in which language."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.core.effects import Record
from bot.core.events import Sender
from bot.core.rules import Rules
from bot.i18n import Catalogs
from bot.services.figures import Event, Filters, lesson_figures
from bot.web.trainer_figures import lesson_tables
from tests.builders import LANGUAGES, NOW, button, command, text
from tests.core_journey import CoreJourney

ROOT = Path(__file__).resolve().parent.parent
DRAFTS = Rules(LANGUAGES, draft_languages=frozenset({"fr", "ar"}))
NOTICE = "🌍 The translations into your language are new."


def in_language(code: str) -> CoreJourney:
    journey = CoreJourney(rules=DRAFTS)
    journey.send(command("start"))
    journey.send(button(f"lang:{code}"))
    return journey


def test_a_learner_in_a_draft_language_is_told_once_that_the_translations_are_new() -> None:
    journey = CoreJourney(rules=DRAFTS)
    journey.send(command("start"))
    said = journey.send(button("lang:fr"))
    assert sum(NOTICE in line for line in said) == 1
    assert not any(NOTICE in line for line in journey.send(button("les:first")))
    english = CoreJourney(rules=DRAFTS)
    english.send(command("start"))
    assert not any(NOTICE in line for line in english.send(button("lang:en")))


def test_unclear_sits_beside_next_in_a_draft_language_and_nowhere_in_english() -> None:
    journey = in_language("fr")
    journey.send(button("les:first"))
    assert journey.buttons() == ["Next ➡️", "🤔 Unclear"]
    assert journey.state.choices == ("next:first/hello", "unc:first/hello")
    english = in_language("en")
    english.send(button("les:first"))
    assert english.buttons() == ["Next ➡️"]


def test_flagging_tells_the_trainers_and_keeps_the_learner_where_they_were() -> None:
    journey = in_language("ar")
    journey.send(button("les:first"))
    before = journey.state
    said = journey.send(text("٢"))  # the second option, in Arabic digits
    assert said == ["🙏 Thank you: the trainers will look at this message."]
    [flag] = [e for e in journey.effects if isinstance(e, Record) and e.name == "unclear_flagged"]
    assert flag.data == {"lesson": "first", "step": "hello", "language": "ar"}
    assert journey.state.choices == before.choices and journey.state.progress == before.progress
    assert journey.send(text("1")) == ["Which is a colour?"]  # Next still means next


def test_a_forged_flag_is_refused_and_changes_nothing() -> None:
    journey = in_language("fr")
    journey.send(button("les:first"))
    before = journey.state
    said = journey.send(button("unc:first/no-such-step"))
    assert said[0] == "This button is from an earlier message."
    assert "unclear_flagged" not in journey.records()
    assert journey.state.progress == before.progress


def test_in_a_group_no_lesson_message_carries_the_flag() -> None:
    group = Sender("test", "g1", "u1", "Ana", "fr", group=True)
    journey = CoreJourney(rules=DRAFTS)
    journey.send(command("start", who=group))
    journey.send(button("lang:fr", who=group))
    journey.send(button("les:first", who=group))
    assert "🤔 Unclear" not in journey.buttons()


def test_the_shipped_catalogs_are_drafts_except_the_source() -> None:
    catalogs = Catalogs(ROOT / "locales", ["en", "fr", "ar", "ti"], "en")
    assert catalogs.drafts == frozenset({"fr", "ar", "ti"})


def test_trainers_see_each_flagged_step_by_language_small_counts_hidden() -> None:
    lesson = CoreJourney().course.lesson("first")
    assert lesson is not None
    events = [Event(n, "lesson_started", {"lesson": "first"}, NOW) for n in range(9)]
    later = NOW + timedelta(minutes=1)
    events += [
        Event(n, "unclear_flagged", {"lesson": "first", "step": "hello", "language": "fr"}, later)
        for n in range(6)
    ] + [
        Event(7, "unclear_flagged", {"lesson": "first", "step": "colour", "language": "ar"}, later)
    ]
    figures = lesson_figures(lesson, events, Filters())
    assert [(u.step_id, u.language, u.learners) for u in figures.unclear] == [
        ("hello", "fr", 6),
        ("colour", "ar", 1),
    ]
    table = lesson_tables(figures)["unclear"]  # the lesson page's table, and its CSV
    assert table.rows == (("hello", "fr", "6"), ("colour", "ar", "< 5"))
