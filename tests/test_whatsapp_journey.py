"""Learners take lessons on WhatsApp: pywa's async client against the fake Graph API."""

from __future__ import annotations

from pathlib import Path

from bot.app import Coach
from bot.store.tables import MediaFile
from tests.builders import PICTURE_LESSON
from tests.fakes.telegram_people import SAMPLE_PNG
from tests.telegram_learner import small_course
from tests.whatsapp_learner import WhatsAppLearner, coach_on_whatsapp, learner_row

AMINA = "33612345678"


async def starts_basics(learner: WhatsAppLearner) -> None:
    said = await learner.says("hello")
    assert said == ["Choose your language.\n\n1. English\n2. Français\n3. العربية"]
    await learner.taps("English")
    await learner.taps("Basics")


async def test_a_learner_takes_a_whole_lesson_with_buttons_and_typed_numbers(
    database_url: str, engine: object
) -> None:
    async with coach_on_whatsapp(database_url) as (coach, graph):
        learner = WhatsAppLearner(coach, graph, AMINA, "Amina")
        await starts_basics(learner)
        said = await learner.taps("First steps (2 min)")
        assert said[0].startswith("📘 First steps — about 2 min.")
        assert said[1:] == ["Hello there.\n\n1. Next ➡️"]
        assert await learner.says("1") == ["Which is a colour?\n\n1. Table\n2. Blue\n3. Run"]
        quiz = learner.last[-1]
        assert (quiz.type, quiz.listed) == ("interactive", False)
        assert [title for _, title in quiz.choices] == ["1. Table", "2. Blue", "3. Run"]

        said = await learner.taps("Table")
        options = "1. Table\n2. Blue\n3. Run"
        assert said == [f"Which is a colour?\n\n❌ Table\n\nNot quite.\n\nTry again.\n\n{options}"]
        assert await learner.taps("Blue") == ["Yes!", "Which is an animal?\n\n1. Chair\n2. Cat"]
        said = await learner.says("7")
        assert said[0] == "Please type a number from 1 to 2."
        shown = learner.choices()  # in this learner's own order
        chair, cat = (str(shown.index(word) + 1) for word in ("Chair", "Cat"))
        said = await learner.says(chair)
        assert said[0].startswith("Which is an animal?\n\n❌ Chair\n\nNo.\n\nTry again.")
        said = await learner.says(cat)
        assert said == ["Right, a cat.", "Send a photo of a cup.\n\n1. Skip this task"]
        said = await learner.sends_image()
        assert said[0] == "Nice photo!"
        assert said[1].startswith("You answered a quiz and sent a photo.")
        said = await learner.taps("Finish the lesson ✅")
        assert said[0].startswith("🎉 Well done! You finished “First steps”.")
        assert learner.choices() == [
            "Next lesson: Replies",
            "🙋 Talk to a person",
            "Back to the menu",
        ]
        said = await learner.says("/progress")
        assert said[0].startswith("Lessons done: 1 of 2")


async def test_more_than_three_choices_go_as_a_list_with_the_whole_labels_in_the_body(
    database_url: str, engine: object
) -> None:
    async with coach_on_whatsapp(database_url) as (coach, graph):
        learner = WhatsAppLearner(coach, graph, AMINA, "Amina")
        await learner.says("hello")
        await learner.taps("English")
        menu = learner.last[-1]
        assert menu.listed and menu.list_button == "1–5"
        assert menu.body is not None and menu.body.endswith("\n5. Save data: no pictures")
        assert menu.choices[-1] == ("data", "5. Save data: no…")
        assert menu.descriptions[-1] == "5. Save data: no pictures"
        said = await learner.taps("My progress")  # a list row, tapped
        assert said[0].startswith("Lessons done: 0 of 2")


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
    async with coach_on_whatsapp(database_url, curriculum=course) as (coach, graph):
        learner = WhatsAppLearner(coach, graph, AMINA, "Amina")
        await starts_basics(learner)
        said = await learner.taps("Voice notes (1 min)")
        assert said[-1].startswith("Send me a voice note. Just say hello!")
        said = await learner.sends_image()
        assert said == ["Hold the microphone and speak.\n\n1. Skip this task"]
        said = await learner.sends_voice()
        assert said[0] == "I got your voice note."
        assert learner.choices() == ["Finish the lesson ✅"]


async def test_a_lesson_picture_is_uploaded_once_and_again_when_whatsapp_forgot_it(
    database_url: str, engine: object, tmp_path: Path
) -> None:
    course = small_course(
        tmp_path, {"buttons": PICTURE_LESSON}, media={"media/buttons.png": SAMPLE_PNG}
    )
    async with coach_on_whatsapp(database_url, curriculum=course) as (coach, graph):

        async def sees_the_picture(wa_id: str) -> str | None:
            learner = WhatsAppLearner(coach, graph, wa_id, "Someone")
            await starts_basics(learner)
            await learner.taps("Buttons (1 min)")  # its cost, and the choice
            said = await learner.taps("▶️ Start")
            assert said[-2:] == ["", "Buttons are under my message.\n\n1. Next ➡️"]
            return learner.last[-2].media_id

        first = await sees_the_picture("33600000001")
        second = await sees_the_picture("33600000002")
        assert graph.upload_count == 1 and first == second
        assert first is not None and graph.uploads[first] == SAMPLE_PNG
        graph.forget_media()  # 30 days later
        third = await sees_the_picture("33600000003")
        fourth = await sees_the_picture("33600000004")
        assert graph.upload_count == 2 and third == fourth != first


async def test_a_learner_replies_to_the_coachs_message_by_swiping_it(
    database_url: str, engine: object
) -> None:
    async with coach_on_whatsapp(database_url) as (coach, graph):
        learner = WhatsAppLearner(coach, graph, AMINA, "Amina")
        await starts_basics(learner)
        said = await learner.taps("Replies (1 min)")
        assert said[1:] == ["Reply to the next message.", "Reply to me\n\n1. Skip this task"]
        prompt, target = learner.last[1], learner.last[2]
        again = "Tap Reply under my message.\n\n1. Skip this task"
        assert await learner.says("ok") == [again]
        assert await learner.says("ok", replying_to=prompt) == [again]
        said = await learner.says("done", replying_to=target)
        assert said[0] == "Good." and said[1].startswith("Did you reply?")


async def test_typing_the_stop_command_opts_the_learner_out(
    database_url: str, engine: object
) -> None:
    async with coach_on_whatsapp(database_url) as (coach, graph):
        learner = WhatsAppLearner(coach, graph, AMINA, "Amina")
        await starts_basics(learner)
        assert len(await learner.says("/stop")) == 1
        assert (await learner_row(coach, AMINA)).status == "stopped"
        said = await learner.says("hello")
        assert said == ["You stopped the coach. Send /start to begin again."]


async def test_the_size_before_a_lesson_counts_the_picture_as_whatsapp_keeps_it(
    database_url: str, engine: object, tmp_path: Path
) -> None:
    """Meta processes an upload and says the size of the file it keeps (what a learner's
    phone downloads): once it has, the size shown before the lesson counts that file."""
    course = small_course(
        tmp_path, {"buttons": PICTURE_LESSON}, media={"media/buttons.png": SAMPLE_PNG}
    )
    async with coach_on_whatsapp(database_url, curriculum=course) as (coach, graph):
        graph.kept_size = lambda _uploaded: 60_000
        coach.service.transfers.refresh_seconds = 0

        async def intro(wa_id: str) -> str:
            learner = WhatsAppLearner(coach, graph, wa_id, "Someone")
            await starts_basics(learner)
            [said] = await learner.taps("Buttons (1 min)")
            await learner.taps("▶️ Start")  # the picture is uploaded and sent
            return said.split("\n\n")[0]

        texts = len(b"Buttons are under my message.You saw a picture.") + 2 * 500
        shipped = len(SAMPLE_PNG) + 2000  # before any upload: the shipped file
        assert await intro("33600000001") == (
            f"📘 Buttons — about 1 min. This lesson: about {-(-texts // 1000)} kB (text) + "
            f"{-(-shipped // 1000)} kB (1 picture)."
        )
        assert (await media_row(coach, "media/buttons.png")).kept_size == 60_000
        assert await intro("33600000002") == (
            "📘 Buttons — about 1 min. This lesson: about 2 kB (text) + 62 kB (1 picture)."
        )


async def media_row(coach: Coach, path: str) -> MediaFile:
    async with coach.store.unit_of_work() as uow:
        row = await uow.session.get(MediaFile, ("whatsapp", path))
    assert row is not None
    return row
