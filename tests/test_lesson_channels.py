"""Lesson text fit for the channel: its own gestures, pictures said in words, and practice
that a channel cannot carry done on the phone, not checked. The core and the renderer,
without a database or a bot."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

from bot.channels.matterbridge.inbound import CHANNEL as MATTERBRIDGE
from bot.channels.telegram.inbound import CHANNEL as TELEGRAM
from bot.channels.webchat import CHANNEL as WEB
from bot.channels.whatsapp.inbound import CHANNEL as WHATSAPP
from bot.core import payloads
from bot.core.channel import Buttons, Capabilities, Destination
from bot.core.effects import Reply
from bot.core.events import InboundKind
from bot.core.lesson import show_step, start_lesson
from bot.core.practice_elsewhere import practice_code
from bot.core.state import LearnerState
from bot.course.extract import extract_curriculum
from bot.course.loader import check_course, load_course
from bot.course.model import MessageStep
from bot.course.wording import CHANNELS
from bot.services.rendering import Renderer
from tests.builders import NOW, button, media, text
from tests.core_journey import ENGLISH, CoreJourney
from tests.test_course_loader import course_with

CURRICULUM = Path(__file__).resolve().parent.parent / "curriculum"
TEXT_ONLY = Capabilities(
    "matterbridge", Buttons.NONE, receives=frozenset({InboundKind.TEXT, InboundKind.COMMAND})
)


def shown(replies: list[Reply], channel: Capabilities) -> list[str]:
    """The texts a learner on ``channel`` reads, in English."""
    to = Destination(channel.name, "chat", "key", 1)
    return [row.text for row in Renderer(ENGLISH, channel).rows(replies, to, "en", NOW)]


def voice_step(step_id: str) -> list[Reply]:
    lesson = load_course(CURRICULUM).lesson("warmup-voice")
    assert lesson is not None
    step = lesson.step(step_id)
    assert step is not None
    return [e for e in show_step(lesson, step, LearnerState(language="en")) if isinstance(e, Reply)]


def test_the_voice_lesson_shows_each_channel_its_own_gesture() -> None:
    how = voice_step("how")
    web, telegram, whatsapp = shown(how, WEB), shown(how, TELEGRAM), shown(how, WHATSAPP)
    assert "Attach 📎" in web[0] and "Voice note 🎤" in web[0]
    assert "slide your finger" not in web[0]
    assert "Hold the microphone 🎤" in telegram[0] and "camera 📷" in telegram[0]
    assert "Hold the microphone 🎤" in whatsapp[0] and "lock 🔒" in whatsapp[0]
    assert len({web[0], telegram[0], whatsapp[0]}) == 3
    # A channel without a variant of its own gets the text the trainer wrote first.
    assert shown(how, MATTERBRIDGE)[0].startswith("Hold the microphone 🎤 next to where you type.")


def options(replies: list[Reply], channel: Capabilities) -> set[str]:
    """The quiz's button labels on ``channel``, without their numbers."""
    to = Destination(channel.name, "chat", "key", 1)
    rows = Renderer(ENGLISH, channel).rows(replies, to, "en", NOW)
    return {b["label"].split(". ", 1)[1] for b in rows[-1].buttons}


def test_the_voice_quiz_asks_about_the_web_chats_own_gesture() -> None:
    quiz = voice_step("how-to-record")
    assert shown(quiz, WEB)[0] == "How do you send a voice note in this chat?"
    assert "Tap Attach 📎, then Voice note 🎤" in options(quiz, WEB)
    assert shown(quiz, TELEGRAM)[0] == "How do you send a voice note?"
    assert "Hold the microphone and speak" in options(quiz, TELEGRAM)
    assert "Hold the microphone and speak" not in options(quiz, WEB)


def test_answering_the_web_quiz_echoes_the_web_option() -> None:
    course = load_course(CURRICULUM)
    journey = CoreJourney(course=course, state=LearnerState(language="en"))
    lesson = course.lesson("warmup-voice")
    assert lesson is not None
    journey.state, _ = start_lesson(journey.state, lesson, NOW)
    journey.send(button(payloads.next_step("warmup-voice", "why")))
    journey.send(button(payloads.next_step("warmup-voice", "how")))
    journey.send(button(payloads.answer("warmup-voice", "how-to-record", 1)))
    echoed = [r for r in journey.effects if isinstance(r, Reply) and r.edit_only]
    on_web = Renderer(ENGLISH, replace(WEB, can_edit=True)).rows(
        echoed, Destination("web", "c", "k", 1, pressed_message_id="9"), "en", NOW
    )
    assert "✅ Tap Attach 📎, then Voice note 🎤" in on_web[0].text


def test_a_picture_not_sent_is_said_in_words() -> None:
    lesson = load_course(CURRICULUM).lesson("safety-scam-sms")
    assert lesson is not None
    text_only = LearnerState(language="en", text_only=True)
    replies = [e for e in show_step(lesson, lesson.steps[0], text_only) if isinstance(e, Reply)]
    said = shown(replies, WEB)[0]
    assert said.endswith(
        '🖼 A text message with a warning sign and a link, next to a red "no" sign.'
    )
    assert replies[0].media is None
    # A channel that sends no pictures says the description; the web chat uses it as alt text.
    full = [e for e in show_step(lesson, lesson.steps[0], LearnerState()) if isinstance(e, Reply)]
    assert shown(full, replace(WEB, sends=frozenset()))[0].endswith('red "no" sign.')
    to = Destination("web", "c", "k", 1)
    row = Renderer(ENGLISH, WEB).rows(full, to, "en", NOW)[0]
    assert row.media is not None and row.media["alt"].startswith("A text message")
    assert "🖼" not in row.text


def test_every_shipped_picture_has_a_description() -> None:
    course = load_course(CURRICULUM)
    pictures = [
        step.media
        for lesson in course.lessons
        for step in lesson.steps
        if isinstance(step, MessageStep) and step.media is not None
    ]
    assert len(pictures) == 5 and all(m is not None and m.alt for m in pictures)
    used = {m.path for m in pictures if m is not None}
    assert used == {f"media/{p.name}" for p in (CURRICULUM / "media").glob("*.png")}


PHOTO_TASK = """\
  - id: photo
    kind: practice
    expect: photo
    prompt: Send me a photo of a cup.
    hint: Tap 📎, then Camera.
    success: Nice photo!
    on:
      web:
        hint: Tap Attach, then Photo.
  - id: recap
    kind: checkpoint
    text: Done.
"""


def photo_journey(tmp_path: Path) -> CoreJourney:
    course = load_course(course_with(tmp_path, PHOTO_TASK))
    journey = CoreJourney(course=course, state=LearnerState(language="en"))
    lesson = course.lesson("hello")
    assert lesson is not None
    journey.state, journey.effects = start_lesson(journey.state, lesson, NOW)
    return journey


def test_a_photo_task_where_photos_cannot_come_is_done_on_the_phone(tmp_path: Path) -> None:
    journey = photo_journey(tmp_path)
    code = practice_code("hello/photo")
    prompt = shown(journey.replies(), TEXT_ONLY)[-1]
    assert prompt.startswith(
        "Send me a photo of a cup.\n\n📵 Photos cannot come through this chat."
    )
    assert f"Then type {code} here. I cannot check it from here." in prompt
    # Where photos come, the task is as the trainer wrote it, with no number to type.
    assert shown(journey.replies(), TELEGRAM)[-1] == "Send me a photo of a cup."
    journey.send(text("a cup"))
    hint = shown(journey.replies(), TEXT_ONLY)[-1]
    assert "Tap 📎" not in hint and f"type {code} here" in hint
    assert journey.records() == ["practice_hint"]
    said = journey.send(text(str(code)))
    assert said[0] == "👍 Thank you. I cannot see your phone from here, so I did not check it."
    assert "Nice photo!" not in said
    assert journey.records()[0] == "practice_unchecked"
    assert "practice_done" not in journey.records()
    assert said[-1] == "Done."


def test_a_photo_still_counts_as_checked_where_photos_come(tmp_path: Path) -> None:
    journey = photo_journey(tmp_path)
    journey.send(media(InboundKind.PHOTO))
    assert journey.records()[0] == "practice_done"
    web_hint = photo_journey(tmp_path / "again")
    web_hint.send(text("a cup"))
    assert shown(web_hint.replies(), WEB)[-1].startswith("Tap Attach, then Photo.")


def test_the_number_is_three_digits_and_differs_between_tasks() -> None:
    codes = {practice_code(f"lesson/step-{n}") for n in range(50)}
    assert all(100 <= c <= 999 for c in codes) and len(codes) > 40


def test_every_learners_channel_may_be_named_in_a_variant() -> None:
    assert {WEB.name, TELEGRAM.name, WHATSAPP.name, MATTERBRIDGE.name} == set(CHANNELS)


def test_an_unknown_channel_in_a_variant_is_named_with_its_line(tmp_path: Path) -> None:
    steps = "- id: hi\n  kind: message\n  text: Hi\n  on:\n    sms:\n      text: Hello\n"
    _, problems = check_course(course_with(tmp_path, steps))
    assert [str(p) for p in problems] == [
        'curriculum/warmup/hello.yaml:9: step "hi": unknown channel "sms" in "on"; '
        "use web, telegram, whatsapp, matterbridge"
    ]


def test_a_misspelt_channel_or_field_in_a_variant_gets_a_suggestion(tmp_path: Path) -> None:
    steps = (
        "- id: hi\n  kind: message\n  text: Hi\n  on:\n    telegramm:\n      text: Hello\n"
        "    web:\n      question: Hello?\n"
    )
    _, problems = check_course(course_with(tmp_path, steps))
    assert [str(p) for p in problems] == [
        'curriculum/warmup/hello.yaml:9: step "hi": unknown channel "telegramm" in "on"; '
        'did you mean "telegram"?',
        'curriculum/warmup/hello.yaml:12: step "hi", on web: unknown field "question"; use text',
    ]


def test_variant_options_must_match_the_quizs_options(tmp_path: Path) -> None:
    steps = """\
    - id: q
      kind: quiz
      question: Which?
      options: [One, Two]
      answer: 1
      right: Yes
      wrong: No
      on:
        web:
          options: [Only one]
    """
    _, problems = check_course(course_with(tmp_path, steps))
    assert [str(p) for p in problems] == [
        'curriculum/warmup/hello.yaml:14: step "q", on web: "options" must have as many '
        "options as the quiz: 2"
    ]


def test_an_image_without_a_description_is_refused_with_its_line(tmp_path: Path) -> None:
    steps = "- id: hi\n  kind: message\n  text: Hi\n  image: media/a.png\n"
    _, problems = check_course(course_with(tmp_path, steps))
    assert len(problems) == 1
    assert str(problems[0]).startswith(
        'curriculum/warmup/hello.yaml:8: step "hi": an image needs "alt": a short description'
    )
    stray = "- id: hi\n  kind: message\n  text: Hi\n  alt: A cup.\n"
    _, problems = check_course(course_with(tmp_path / "stray", stray))
    assert [p.line for p in problems] == [8] and "has neither" in problems[0].message


def test_variants_and_descriptions_are_extracted_for_translation() -> None:
    source = (CURRICULUM / "warmup" / "warmup-voice.yaml").read_bytes()
    found = {ctx: msg for _, _, (ctx, msg), _ in extract_curriculum(io.BytesIO(source), {}, [], {})}
    assert found["warmup-voice/how/text@web"].startswith("In this chat, tap Attach 📎")
    assert found["warmup-voice/how/text@telegram"].startswith("Hold the microphone")
    assert found["warmup-voice/how-to-record/option-2@web"] == "Tap Attach 📎, then Voice note 🎤"
    assert found["warmup-voice/how-to-record/question@web"].endswith("in this chat?")
    pictured = (CURRICULUM / "safety" / "safety-scam-sms.yaml").read_bytes()
    found = {
        ctx: msg for _, _, (ctx, msg), _ in extract_curriculum(io.BytesIO(pictured), {}, [], {})
    }
    assert found["safety-scam-sms/intro/alt"].startswith("A text message with a warning sign")


def test_a_variant_of_a_pictures_text_must_fit_a_caption(tmp_path: Path) -> None:
    long = "word " * 210
    steps = (
        "- id: hi\n  kind: message\n  text: Hi\n  image: media/a.png\n  alt: A cup.\n"
        f"  on:\n    telegram:\n      text: {long}\n"
    )
    _, problems = check_course(course_with(tmp_path, steps))
    assert [str(p) for p in problems] == [
        'curriculum/warmup/hello.yaml:12: step "hi", on telegram: "text" is too long for one '
        "chat message: 1049 > 1024"
    ]
