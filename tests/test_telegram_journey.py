"""Learners take lessons in Telegram: each Telegram library against the fake Bot API server."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.services.coach import utc_now
from bot.store.media import MediaCache
from tests.builders import PICTURE_LESSON
from tests.fakes import FakeUser, SentMessage
from tests.fakes.telegram_people import SAMPLE_PNG
from tests.telegram_learner import TelegramLearner, coach_on_telegram, small_course

pytestmark = pytest.mark.usefixtures("telegram_runtime")


async def test_a_learner_takes_a_whole_lesson_with_buttons_and_typed_numbers(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url) as (coach, tg):
        learner = TelegramLearner(coach, tg, tg.user(1001, "Amina", "fr"))
        said = await learner.says("/start")
        assert said[0].startswith("Bonjour")
        assert learner.buttons() == ["English", "Français", "العربية"]
        await learner.taps("English")
        await learner.taps("Basics")
        said = await learner.taps("First steps (2 min)")
        assert said[0].startswith("📘 First steps — about 2 min.") and said[1:] == ["Hello there."]
        assert await learner.says("1") == ["Which is a colour?"]
        quiz = learner.last[-1]

        assert await learner.taps("Table") == []
        assert quiz.message_id == tg.sent(learner.chat_id)[-1].message_id
        assert (
            tg.last_text(learner.chat_id)
            == "Which is a colour?\n\n❌ Table\n\nNot quite.\n\nTry again."
        )
        assert await learner.taps("Blue") == ["Yes!", "Which is an animal?"]
        edited = next(m for m in tg.sent(learner.chat_id) if m.message_id == quiz.message_id)
        assert edited.text == "Which is a colour?\n\n✅ Blue" and edited.labels == []

        said = await learner.says("7")
        assert said == ["Please type a number from 1 to 2.", "Which is an animal?"]
        shown = learner.buttons()  # in this learner's own order
        chair, cat = (str(shown.index(word) + 1) for word in ("Chair", "Cat"))
        assert await learner.says(chair) == ["Which is an animal?\n\n❌ Chair\n\nNo.\n\nTry again."]
        assert learner.buttons() == shown
        assert await learner.says(cat) == ["Right, a cat.", "Send a photo of a cup."]
        said = await learner.does(tg.send_photo(learner.user))
        assert said == ["Nice photo!", "You answered a quiz and sent a photo."]
        said = await learner.taps("Finish the lesson ✅")
        assert said[0].startswith("🎉 Well done! You finished “First steps”.")
        said = await learner.says("/progress")
        assert said[0].startswith("Lessons done: 1 of 2")
        assert (
            all(a.text is None for a in tg.answered_callbacks) and len(tg.answered_callbacks) == 6
        )


VOICE_LESSON = """\
title: Voice notes
minutes: 1
steps:
  - id: say-hello
    kind: practice
    expect: voice
    prompt: Send me a voice note. Just say hello!
    hint: Hold the microphone and speak.
    success: I got your voice note.
  - id: recap
    kind: checkpoint
    text: You sent a voice note.
"""


async def test_a_voice_note_completes_a_voice_practice(
    database_url: str, engine: object, tmp_path: Path
) -> None:
    course = small_course(tmp_path, {"voice": VOICE_LESSON})
    async with coach_on_telegram(database_url, curriculum=course) as (coach, tg):
        learner = TelegramLearner(coach, tg, tg.user(1001, "Amina"))
        await learner.says("/start")
        await learner.taps("English")
        await learner.taps("Basics")
        said = await learner.taps("Voice notes (1 min)")
        assert said[-1] == "Send me a voice note. Just say hello!"

        assert await learner.does(tg.send_photo(learner.user)) == ["Hold the microphone and speak."]
        assert await learner.says("hello") == ["Hold the microphone and speak."]
        said = await learner.does(tg.send_voice(learner.user, duration=2))
        assert said == ["I got your voice note.", "You sent a voice note."]
        assert learner.buttons() == ["Finish the lesson ✅"]


async def test_a_learner_replies_to_the_coachs_message_and_progress_counts_the_lesson(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url) as (coach, tg):
        learner = TelegramLearner(coach, tg, tg.user(1001, "Amina"))
        await learner.says("/start")
        await learner.taps("English")
        said = await learner.says("/progress")
        assert said == ["Lessons done: 0 of 2\n\n░░░░░░░░░░ 0%\n\nStreak: 0 days in a row"]
        assert learner.buttons() == ["Back to the menu"]
        await learner.taps("Back to the menu")
        await learner.taps("Basics")
        said = await learner.taps("Replies (1 min)")
        assert said[0].startswith("📘 Replies — about 1 min.")
        assert said[1:] == ["Reply to the next message.", "Reply to me"]
        prompt, target = learner.last[1], learner.last[2]

        assert await learner.says("ok") == ["Tap Reply under my message."]
        said = await learner.says("ok", reply_to_message_id=prompt.message_id)
        assert said == ["Tap Reply under my message."]
        said = await learner.says("done", reply_to_message_id=target.message_id)
        assert said == ["Good.", "Did you reply?"]
        await learner.taps("Yes")

        said = await learner.says("/progress")
        assert said == ["Lessons done: 1 of 2\n\n▓▓▓▓▓░░░░░ 50%\n\nStreak: 1 day in a row"]


async def test_a_lesson_picture_is_uploaded_once_then_sent_by_its_telegram_id(
    database_url: str, engine: object, tmp_path: Path
) -> None:
    course = small_course(
        tmp_path, {"buttons": PICTURE_LESSON}, media={"media/buttons.png": SAMPLE_PNG}
    )
    async with coach_on_telegram(database_url, curriculum=course) as (coach, tg):

        async def sees_the_picture(user: FakeUser) -> SentMessage:
            learner = TelegramLearner(coach, tg, user)
            await learner.says("/start")
            await learner.taps("English")
            await learner.taps("Basics")
            await learner.taps("Buttons (1 min)")  # its cost, and the choice
            said = await learner.taps("▶️ Start")
            assert said[-1] == "Buttons are under my message."
            assert learner.buttons() == ["Next ➡️"]
            return learner.last[-1]

        first = await sees_the_picture(tg.user(1001, "Amina"))
        second = await sees_the_picture(tg.user(1002, "Bilal"))
        assert (first.kind, first.source) == ("photo", "upload")
        assert (second.kind, second.source) == ("photo", "file_id")
        assert second.file_id == first.file_id
        assert first.file_id is not None and tg.files[first.file_id].data == SAMPLE_PNG

        # The database was copied from another bot: Telegram does not know its file ids.
        size = len(SAMPLE_PNG)
        await MediaCache(coach.store).remember(
            "telegram", "media/buttons.png", size, "Ag-other-bot", utc_now()
        )
        third = await sees_the_picture(tg.user(1003, "Chidi"))
        fourth = await sees_the_picture(tg.user(1004, "Dina"))
        assert [c.status for c in tg.calls("sendPhoto")] == [200, 200, 400, 200, 200]
        assert (third.source, fourth.source) == ("upload", "file_id")
        assert fourth.file_id == third.file_id


async def test_the_command_menu_is_registered_in_every_language(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url) as (_, tg):
        menus = tg.commands
    assert set(menus) == {("default", ""), ("default", "en"), ("default", "fr"), ("default", "ar")}
    for menu in menus.values():
        commands = [c["command"] for c in menu]
        assert commands == ["start", "menu", "progress", "data", "language", "help", "stop"]
    progress = {language: menu[2]["description"] for (_, language), menu in menus.items()}
    assert progress == {"": "My progress", "en": "My progress", "fr": "Mes progrès", "ar": "تقدّمي"}
