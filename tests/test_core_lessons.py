"""The core, without a database or a bot: a learner takes a lesson."""

from __future__ import annotations

from datetime import timedelta

from bot.core.effects import Reply
from bot.core.events import InboundKind, Sender
from bot.core.state import LearnerStatus, LessonStatus
from tests.builders import button, command, media, text
from tests.core_journey import ENGLISH, CoreJourney


def onboarded() -> CoreJourney:
    journey = CoreJourney()
    journey.send(command("start"))
    journey.send(button("lang:en"))
    return journey


def test_start_greets_and_asks_for_the_language() -> None:
    journey = CoreJourney()
    said = journey.send(command("start"))
    assert "Hello! I am Coach" in said[0]
    assert said[-1] == "Choose your language."
    assert journey.buttons() == ["English", "Français", "العربية"]
    assert journey.state.choices == ("lang:en", "lang:fr", "lang:ar")


def test_choosing_a_language_stores_it_and_shows_the_menu() -> None:
    journey = CoreJourney()
    journey.send(command("start"))
    journey.send(text("2"))
    assert journey.state.language == "fr"
    assert journey.buttons() == [
        "Basics",
        "My progress",
        "🙋 Talk to a person",
        "Language",
        "Save data: no pictures",
    ]


def test_anything_before_a_language_asks_for_the_language_again() -> None:
    journey = CoreJourney()
    assert journey.send(text("hello")) == ["Choose your language."]
    assert journey.state.language is None


def test_the_module_lists_its_lessons_with_their_minutes() -> None:
    journey = onboarded()
    journey.send(button("mod:basics"))
    assert journey.buttons() == ["First steps (2 min)", "Replies (1 min)", "Back to the menu"]


def test_a_whole_lesson_with_buttons_typed_numbers_a_wrong_answer_and_a_photo() -> None:
    journey = onboarded()
    said = journey.send(button("les:first"))
    assert said == ["📘 First steps — about 2 min. Download: 3 kB.", "Hello there."]
    said = journey.send(text("1"))  # Next
    assert said == ["Which is a colour?"]
    shown = journey.buttons()  # in this learner's own order
    assert sorted(shown) == ["Blue", "Run", "Table"]
    said = journey.send(button("ans:first/colour/0"))
    assert said == ["Which is a colour?\n❌ Table\nNot quite.\nTry again."]
    assert journey.buttons() == shown
    said = journey.send(text(str(shown.index("Blue") + 1)))
    assert said == ["Yes!", "Send a photo."]
    said = journey.send(media(InboundKind.VOICE))
    assert said == ["Use the camera."]
    said = journey.send(media(InboundKind.PHOTO))
    assert said == ["Nice photo!", "You did it."]
    said = journey.send(button("next:first/recap"))
    assert said[0].startswith("🎉 Well done! You finished “First steps”.")
    assert "Right at the first try: 0 of 1." in said[0]
    assert "Lessons done: 1 of 2" in said[0]
    assert journey.buttons() == ["Next lesson: Replies", "🙋 Talk to a person", "Back to the menu"]
    progress = journey.state.progress["first"]
    assert progress.status is LessonStatus.DONE and progress.finished_at is not None
    assert journey.state.current_lesson is None


def test_a_right_first_answer_scores() -> None:
    journey = onboarded()
    journey.send(button("les:first"))
    journey.send(button("next:first/hello"))
    journey.send(button("ans:first/colour/1"))
    assert journey.state.progress["first"].score == 1
    assert "quiz_answered" in journey.records()


def test_an_answered_quiz_can_be_edited_in_place() -> None:
    journey = onboarded()
    journey.send(button("les:first"))
    journey.send(button("next:first/hello"))
    journey.send(button("ans:first/colour/2"))
    retry = journey.replies()[0]
    assert retry.edit_pressed and not retry.edit_only and len(retry.choices) == 3
    journey.send(button("ans:first/colour/1"))
    edits = [e for e in journey.effects if isinstance(e, Reply) and e.edit_only]
    assert [ENGLISH.render(p, "en") for p in edits[0].parts] == ["Which is a colour?", "✅ Blue"]
    assert edits[0].edit_pressed and not edits[0].choices


def test_group_talk_not_meant_for_the_coach_gets_no_answer() -> None:
    group = Sender("test", "-100", "u7", first_name="Ali", group=True)
    journey = CoreJourney()
    assert journey.send(text("hello everyone", group)) == []
    journey.send(command("start", group))
    journey.send(button("lang:en", group))
    assert journey.send(text("see you at the market", group)) == []
    assert journey.send(text("what?", group, addressed=True))[0].startswith("I did not understand")
    assert journey.send(text("1", group)) == ["Basics: choose a lesson."]


def test_text_in_the_middle_of_a_quiz_asks_for_an_answer_and_keeps_the_place() -> None:
    journey = onboarded()
    journey.send(button("les:first"))
    journey.send(button("next:first/hello"))
    said = journey.send(text("blue I think"))
    assert said == [
        "Please answer with a button, or type a number from 1 to 3.",
        "Which is a colour?",
    ]
    assert journey.state.progress["first"].step_id == "colour"


def test_a_number_that_is_not_an_option_is_explained() -> None:
    journey = onboarded()
    journey.send(button("les:first"))
    journey.send(button("next:first/hello"))
    said = journey.send(text("7"))
    assert said[0] == "Please type a number from 1 to 3."
    assert journey.state.progress["first"].step_id == "colour"


def test_empty_text_gets_a_clear_reply() -> None:
    journey = onboarded()
    assert journey.send(text("   "))[0] == "Your message was empty."


def test_a_stale_button_does_not_skip_a_step() -> None:
    journey = onboarded()
    journey.send(button("les:first"))
    journey.send(button("next:first/hello"))
    said = journey.send(button("next:first/hello"))  # pressed twice
    assert said == ["This button is from an earlier message.", "Which is a colour?"]
    assert journey.state.progress["first"].step_id == "colour"


def test_forged_payloads_are_refused_and_change_nothing() -> None:
    journey = onboarded()
    journey.send(button("les:first"))
    before = journey.state
    for forged in (
        "ans:first/colour/9",
        "ans:first/colour/x",
        "les:nope",
        "mod:nope",
        "lang:xx",
        "admin:1",
        "ans:first/hello/0",
        "next:first/colour",
        "x" * 80,
        "",
    ):
        said = journey.send(button(forged))
        assert said[0] in (
            "This button does not work any more.",
            "This button is from an earlier message.",
        )
        assert journey.state.progress == before.progress
        assert journey.state.language == "en"


def test_a_photo_outside_a_practice_task_is_thanked_and_ignored() -> None:
    journey = onboarded()
    said = journey.send(media(InboundKind.PHOTO))
    assert said[0] == "Thank you! I cannot use this here."


def test_leaving_and_coming_back_resumes_the_lesson_where_it_stopped() -> None:
    journey = onboarded()
    journey.send(button("les:first"))
    journey.send(button("next:first/hello"))
    journey.send(command("menu"))
    assert journey.buttons()[0] == "Continue: First steps"
    said = journey.send(text("1"))
    assert said == ["Welcome back to “First steps”.", "Which is a colour?"]


def test_a_reply_task_needs_a_reply_to_the_given_message() -> None:
    journey = onboarded()
    said = journey.send(button("les:second"))
    assert said[1:] == ["Reply to the next message.", "Reply to me"]
    assert journey.replies()[-1].tag == "second/reply"
    assert journey.send(text("hello")) == ["Swipe it."]
    said = journey.send(text("hello", reply_to_tag="second/reply"))
    assert said == ["Good.", "Type the word yes."]
    assert journey.send(text("no")) == ["Type yes."]
    assert journey.send(text("YES"))[0] == "Right."


def test_a_practice_task_can_be_skipped() -> None:
    journey = onboarded()
    journey.send(button("les:second"))
    journey.send(text("1"))
    assert journey.state.progress["second"].step_id == "word"
    assert "practice_skipped" in journey.records()


def test_progress_shows_lessons_done_streak_and_bar() -> None:
    journey = onboarded()
    journey.send(button("les:second"))
    journey.send(button("skip:second/reply"))
    journey.now += timedelta(days=1)
    journey.send(text("yes"))
    said = journey.send(command("progress"))
    assert said == ["Lessons done: 1 of 2\n▓▓▓▓▓░░░░░ 50%\nStreak: 2 days in a row"]


def test_the_streak_lapses_after_a_day_without_a_step() -> None:
    journey = onboarded()
    journey.send(button("les:first"))
    journey.send(button("next:first/hello"))
    journey.now += timedelta(days=2)
    assert "Streak: 0 days in a row" in journey.send(command("progress"))[0]


def test_changing_the_language() -> None:
    journey = onboarded()
    journey.send(command("language"))
    said = journey.send(button("lang:ar"))
    assert said[0] == "Done. I will write to you in this language."
    assert journey.state.language == "ar"


def test_stop_silences_the_coach_until_start() -> None:
    journey = onboarded()
    said = journey.send(command("stop"))
    assert "I will not send you messages any more" in said[0]
    assert journey.state.status is LearnerStatus.STOPPED
    assert journey.send(text("hello")) == ["You stopped the coach. Send /start to begin again."]
    journey.send(command("start"))
    assert journey.state.status is LearnerStatus.ACTIVE
    assert "learner_resumed" in journey.records()


def test_an_unknown_command_shows_the_menu() -> None:
    journey = onboarded()
    said = journey.send(command("frobnicate"))
    assert said == ["I don't know this command.", "What would you like to do?"]


def test_a_lesson_whose_step_was_removed_starts_again() -> None:
    journey = onboarded()
    journey.send(button("les:first"))
    journey.send(button("next:first/hello"))
    progress = journey.state.progress["first"]
    journey.state = journey.state.with_progress(
        progress.__class__(**{**progress.__dict__, "step_id": "gone"})
    )
    said = journey.send(button("les:first"))
    assert said == ["📘 First steps — about 2 min. Download: 3 kB.", "Hello there."]


def shipped_course_in_english() -> CoreJourney:
    from bot.course.holder import CourseHolder
    from tests.conftest import ROOT

    journey = CoreJourney(course=CourseHolder.load(ROOT / "curriculum").course)
    journey.send(command("start"))
    journey.send(button("lang:en"))
    return journey


def test_before_a_lesson_with_pictures_the_learner_sees_its_cost_and_chooses() -> None:
    journey = shipped_course_in_english()
    said = journey.send(button("les:warmup-buttons"))
    assert said == [
        "📘 Buttons and numbers — about 3 min. This lesson: about 4 kB (text) + 1 kB (1 picture)."
    ]
    assert journey.buttons() == ["▶️ Start", "Start without pictures", "Not now"]
    assert "lesson_started" not in journey.records()
    said = journey.send(text("1"))  # Start: the first step, the cost not said again
    assert said[0].startswith("Hello! 👋") and "lesson_started" in journey.records()
    journey.send(text("1"))  # Next: the step with the picture
    assert journey.replies()[-1].media is not None


def test_starting_without_pictures_saves_data_from_then_on() -> None:
    journey = shipped_course_in_english()
    journey.send(button("les:warmup-buttons"))
    said = journey.send(text("2"))
    assert said[0].startswith("Pictures and sounds are off")
    assert journey.state.text_only
    journey.send(text("1"))
    assert all(reply.media is None for reply in journey.replies())
    journey.send(command("menu"))
    assert journey.buttons()[-1] == "Pictures on"
    said = journey.send(button("les:data-wifi-vs-mobile"))  # straight in: nothing to choose
    assert said[0].startswith("📘 ") and "Download: " in said[0]


def test_not_now_goes_back_to_the_module_and_starts_nothing() -> None:
    journey = shipped_course_in_english()
    journey.send(button("les:warmup-buttons"))
    journey.send(text("3"))
    assert "Buttons and numbers (3 min)" in journey.buttons()
    assert "warmup-buttons" not in journey.state.progress


def test_a_lesson_of_text_only_or_one_begun_starts_at_once() -> None:
    journey = shipped_course_in_english()
    said = journey.send(button("les:warmup-reply"))
    assert said[0].startswith("📘 ") and "Download: " in said[0]
    journey.send(button("les:warmup-buttons"))
    journey.send(text("1"))  # started
    said = journey.send(button("les:warmup-buttons"))  # back to it later
    assert said[0] == "Welcome back to “Buttons and numbers”."


def test_group_talk_during_a_task_or_after_stop_gets_no_answer() -> None:
    group = Sender("test", "-100", "u8", first_name="Bilal", group=True)
    journey = CoreJourney()
    journey.send(command("start", group))
    journey.send(button("lang:en", group))
    journey.send(button("les:second", group))
    assert journey.send(text("see you tomorrow", group)) == []
    assert journey.state.progress["second"].step_attempts == 0
    journey.send(command("stop", group))
    assert journey.send(text("bye all", group)) == []
    assert journey.send(text("hello?", group, addressed=True))[0].startswith(
        "You stopped the coach"
    )
