"""People in a WhatsApp group relayed by Matterbridge take lessons by typing numbers: each is
their own learner, answered by name in their own language; group talk gets no answer."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from bot.store.tables import Handoff
from tests.fakes.matterbridge_api import Person
from tests.fakes.telegram_people import SAMPLE_PNG
from tests.matterbridge_learner import (
    GREETING,
    BridgedPerson,
    coach_on_matterbridge,
    everyone_says,
    handled,
    learner_row,
    number_for,
    said_to,
)
from tests.telegram_learner import drained, eventually, reading, small_course

AMINA = Person("Amina", "33612345678@s.whatsapp.net")
BILAL = Person("Bilal", "33698765432@s.whatsapp.net")
CHIDI = Person("Chidi", "33655555555@s.whatsapp.net")
NAMES = ("Amina", "Bilal", "Chidi")
LANGUAGES = "Choose your language.\n\n1. English\n2. Français\n3. العربية"


async def test_two_people_take_a_lesson_each_in_their_language_by_typing_numbers_at_once(
    database_url: str, engine: object
) -> None:
    async with coach_on_matterbridge(database_url) as (coach, bridge):
        amina, bilal = BridgedPerson(coach, bridge, AMINA), BridgedPerson(coach, bridge, BILAL)
        posts = await everyone_says([(amina, "/start"), (bilal, "/start")])
        assert said_to("Amina", posts, NAMES) == [f"{GREETING}\n\n{LANGUAGES}"]
        assert said_to("Bilal", posts, NAMES) == [f"{GREETING}\n\n{LANGUAGES}"]

        posts = await everyone_says([(amina, "1"), (bilal, "2")])  # English, Français
        assert said_to("Amina", posts, NAMES)[0].endswith("5. Save data: no pictures")
        assert said_to("Bilal", posts, NAMES)[0].endswith("5. Économiser internet\xa0: sans images")

        posts = await everyone_says([(amina, "1"), (bilal, "1")])  # Basics, both
        posts = await everyone_says([(amina, "1"), (bilal, "1")])  # First steps, both
        assert said_to("Amina", posts, NAMES)[0].endswith("Hello there.\n\n1. Next ➡️")
        assert said_to("Bilal", posts, NAMES)[0].endswith("Hello there.\n\n1. Suivant ➡️")
        posts = await everyone_says([(amina, "1"), (bilal, "1")])
        quiz = {name: said_to(name, posts, NAMES)[0] for name in ("Amina", "Bilal")}
        assert all(said.startswith("Which is a colour?") for said in quiz.values())

        posts = await everyone_says(
            [(amina, number_for("Blue", quiz["Amina"])), (bilal, number_for("Run", quiz["Bilal"]))]
        )
        assert said_to("Amina", posts, NAMES)[0].startswith("Yes!\n\nWhich is an animal?")
        assert "Essayez encore." in said_to("Bilal", posts, NAMES)[0]
        assert (await learner_row(coach, AMINA)).language == "en"
        assert (await learner_row(coach, BILAL)).language == "fr"
        amina_at = (await learner_row(coach, AMINA)).choices
        bilal_at = (await learner_row(coach, BILAL)).choices
        assert amina_at != bilal_at  # each at their own step
        animal = said_to("Amina", posts, NAMES)[0]
        retry = said_to("Bilal", posts, NAMES)[0]
        posts = await everyone_says(
            [(amina, number_for("Cat", animal)), (bilal, number_for("Blue", retry))]
        )
        assert said_to("Amina", posts, NAMES)[0].endswith("1. Skip this task")
        posts = await everyone_says([(amina, "1"), (bilal, "/progress")])  # skip; progress
        assert said_to("Amina", posts, NAMES)[0].endswith("1. Finish the lesson ✅")
        assert "0" in said_to("Bilal", posts, NAMES)[0].split("\n")[0]
        posts = await everyone_says([(amina, "1"), (bilal, "/progress")])  # Amina finishes
        finished = said_to("Amina", posts, NAMES)[0]
        assert finished.startswith("🎉 Well done! You finished “First steps”.")
        assert "Lessons done: 1 of 2" in finished
        bilal_progress = said_to("Bilal", posts, NAMES)[0]
        assert bilal_progress == said_to("Bilal", await bilal.says("/progress"), NAMES)[0]
        assert "Amina" not in bilal_progress and "1" not in bilal_progress.split("\n")[0]
        assert (await learner_row(coach, BILAL)).current_lesson == "first-steps"
        for post in bridge.posts():  # every post answers someone, by name
            assert post.text.startswith(("Amina: ", "Bilal: ")) and post.username == "Coach"
        assert bridge.most_in_any(60.0) <= 20


async def test_group_talk_gets_no_answer_and_starts_nobody(
    database_url: str, engine: object
) -> None:
    async with coach_on_matterbridge(database_url) as (coach, bridge):
        amina, chidi = BridgedPerson(coach, bridge, AMINA), BridgedPerson(coach, bridge, CHIDI)
        assert await chidi.says("Hello everyone, see you on Wednesday") == []
        assert await chidi.says("2") == []  # no question of the coach waits for Chidi
        assert await chidi.says("help") == []
        await amina.says("/start")
        await amina.says("1")
        assert await amina.says("Chidi, I will bring the cake") == []
        assert await chidi.says("1") == []  # Amina's options are not Chidi's
        assert (await learner_row(coach, AMINA)).choices  # still waiting for Amina
        said = await amina.says("2")  # My progress
        assert said[0].startswith("Amina: Lessons done: 0 of 2")
        assert (await learner_row(coach, CHIDI)).language is None


async def test_a_reply_to_the_coachs_post_is_answered_and_a_reply_to_a_person_is_not(
    database_url: str, engine: object
) -> None:
    async with coach_on_matterbridge(database_url) as (coach, bridge):
        amina = BridgedPerson(coach, bridge, AMINA)
        await amina.says("/start")
        await amina.says("1")
        await amina.says("1")
        await amina.says("1")
        await amina.says("1")  # the quiz: Which is a colour?
        before = len(bridge.posts())
        to_a_person = bridge.say(AMINA, "ok see you", parent_id="whatsapp 3EB0C767D26A1D8A")
        to_the_coach = bridge.say(AMINA, "blue", parent_id="msg-parent-not-found")
        thanks = bridge.say(CHIDI, "thanks coach", parent_id="msg-parent-not-found")
        for said in (to_a_person, to_the_coach, thanks):
            await eventually(lambda said=said: handled(coach, said))  # type: ignore[misc]
        await drained(coach)
        posts = [post.text for post in bridge.posts()[before:]]
        assert len(posts) == 1
        assert posts[0].startswith(
            "Amina: Please answer with a button, or type a number from 1 to 3."
        )
        assert "Which is a colour?" in posts[0]
        assert (await learner_row(coach, CHIDI)).language is None


async def test_a_reply_practice_is_done_by_replying_to_the_coachs_post_in_the_group(
    database_url: str, engine: object
) -> None:
    async with coach_on_matterbridge(database_url) as (coach, bridge):
        amina = BridgedPerson(coach, bridge, AMINA)
        await amina.says("/start")
        await amina.says("1")
        await amina.says("1")
        said = await amina.says("2")  # Replies
        assert said[0].endswith("Reply to the next message.\n\nReply to me\n\n1. Skip this task")
        assert await amina.says("done") == []  # not a reply: group talk
        before = len(bridge.posts())
        to_bilal = bridge.say(AMINA, "done", parent_id="whatsapp 3EB0C767D26A1D8A")
        to_the_coach = bridge.say(AMINA, "done", parent_id="msg-parent-not-found")
        for message in (to_bilal, to_the_coach):
            await eventually(lambda message=message: handled(coach, message))  # type: ignore[misc]
        await drained(coach)
        posts = [post.text for post in bridge.posts()[before:]]
        assert len(posts) == 1 and posts[0].startswith("Amina: Good.\n\nDid you reply?")
        assert (await learner_row(coach, AMINA)).choices  # the quiz waits


async def test_a_misunderstood_number_costs_one_message(database_url: str, engine: object) -> None:
    async with coach_on_matterbridge(database_url) as (coach, bridge):
        amina = BridgedPerson(coach, bridge, AMINA)
        await amina.says("/start")
        await amina.says("1")
        said = await amina.says("9")
        assert len(said) == 1
        assert said[0].startswith("Amina: Please type a number from 1 to 5.\n\nWhat would you")


async def test_asking_for_a_person_gives_the_private_way_and_reaches_no_volunteer(
    database_url: str, engine: object
) -> None:
    link = "https://wa.me/33700000000?text=help"
    async with coach_on_matterbridge(database_url, matterbridge_help_link=link) as (coach, bridge):
        amina = BridgedPerson(coach, bridge, AMINA)
        await amina.says("/start")
        await amina.says("1")
        said = await amina.says("/help")
        assert said == [
            f"Amina: To ask for a person, write to me in a private chat: {link}\n\n"
            "1. Back to the lessons"
        ]
        assert await amina.says("I need help with my CAF file, my number is 0612") == []
        async with reading(coach) as session:
            assert await session.scalar(select(func.count()).select_from(Handoff)) == 0


async def test_no_reminder_is_ever_due_in_a_bridged_group(
    database_url: str, engine: object
) -> None:
    async with coach_on_matterbridge(database_url) as (coach, bridge):
        amina = BridgedPerson(coach, bridge, AMINA)
        await amina.says("/start")
        await amina.says("1")
        await amina.says("1")
        await amina.says("1")  # inside a lesson: in a private chat a reminder would be due
        row = await learner_row(coach, AMINA)
        assert row.current_lesson == "first-steps"
        assert row.next_nudge_at is None


PICTURE_LESSON = """\
title: Buttons
minutes: 1
steps:
  - id: look
    kind: message
    image: media/buttons.png
    alt: Two blue buttons, 1 and 2, under a message.
    text: Buttons are under my message.
  - id: photo
    kind: practice
    expect: photo
    prompt: Send a photo of a cup.
    hint: Tap the paper clip, then Photo.
    success: Nice photo!
  - id: recap
    kind: checkpoint
    text: You saw a picture.
"""


async def taking_the_picture_lesson(coach: object, bridge: object, person: Person) -> list[str]:
    learner = BridgedPerson(coach, bridge, person)  # type: ignore[arg-type]
    await learner.says("/start")
    await learner.says("1")
    await learner.says("1")
    return await learner.says("1")


async def test_a_lesson_picture_is_told_in_words_or_linked_when_the_operator_allows(
    database_url: str, engine: object, tmp_path: Path
) -> None:
    course = small_course(tmp_path, {"buttons": PICTURE_LESSON}, {"media/buttons.png": SAMPLE_PNG})
    async with coach_on_matterbridge(database_url, curriculum=course) as (coach, bridge):
        said = await taking_the_picture_lesson(coach, bridge, AMINA)
        assert said[0].endswith(
            "Buttons are under my message.\n\n1. Next ➡️\n"
            "🖼 Two blue buttons, 1 and 2, under a message."
        )
    async with coach_on_matterbridge(
        database_url,
        curriculum=course,
        matterbridge_media_links=True,
        public_url="https://coach.example.org",
    ) as (coach, bridge):
        said = await taking_the_picture_lesson(coach, bridge, BILAL)
        assert said[0].endswith(
            "1. Next ➡️\n🖼 Two blue buttons, 1 and 2, under a message.\n"
            "Picture: https://coach.example.org/curriculum/media/buttons.png"
        )


async def test_a_photo_practice_takes_a_photo_the_bridge_relayed_and_nothing_else(
    database_url: str, engine: object, tmp_path: Path
) -> None:
    course = small_course(tmp_path, {"buttons": PICTURE_LESSON}, {"media/buttons.png": SAMPLE_PNG})
    async with coach_on_matterbridge(database_url, curriculum=course) as (coach, bridge):
        amina = BridgedPerson(coach, bridge, AMINA)
        await taking_the_picture_lesson(coach, bridge, AMINA)
        said = await amina.says("1")
        assert said[0] == "Amina: Send a photo of a cup.\n\n1. Skip this task"
        assert await amina.says("I sent it") == []  # words are not a photo, and not for the coach
        before = len(bridge.posts())
        photo = {"file": [{"Name": "IMG-20261206-WA0001.jpg", "Size": 2048, "URL": ""}]}
        bridge.say(AMINA, "", Extra=photo)

        async def answered() -> bool:
            return len(bridge.posts()) > before

        await eventually(answered)
        await drained(coach)
        said = [post.text for post in bridge.posts()[before:]]
        assert said[0].startswith("Amina: Nice photo!")
