"""The voice lesson shows each channel its own gesture; a bridged group reads a picture's
description and does a task it cannot send on the phone, recorded as not checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import build
from bot.core.practice_elsewhere import practice_code
from bot.store.tables import EventRow
from tests.conftest import settings_for
from tests.fakes.matterbridge_api import Person
from tests.fakes.telegram_people import SAMPLE_PNG
from tests.matterbridge_learner import BridgedPerson, coach_on_matterbridge
from tests.telegram_learner import TelegramLearner, coach_on_telegram, reading, small_course
from tests.web_learner import WebLearner
from tests.whatsapp_learner import WhatsAppLearner, coach_on_whatsapp

CURRICULUM = Path(__file__).resolve().parent.parent / "curriculum"
AMINA = Person("Amina", "33612345678@s.whatsapp.net")


def voice_course(folder: Path) -> Path:
    """A one-lesson course: the shipped voice lesson as it is."""
    lesson = (CURRICULUM / "warmup" / "warmup-voice.yaml").read_text(encoding="utf-8")
    return small_course(folder, {"warmup-voice": lesson.split("\n", 1)[1]})


async def test_the_web_chat_teaches_its_own_attach_menu(
    database_url: str, engine: object, tmp_path: Path
) -> None:
    coach = build(settings_for(database_url, curriculum=voice_course(tmp_path)))
    try:
        async with TestClient(TestServer(coach.web)) as client:
            learner = WebLearner(client)
            await learner.says("/start")
            await learner.taps("English")
            await learner.taps("Basics")
            await learner.taps("Voice notes (3 min)")
            said = await learner.taps("Next ➡️")
            assert said == [
                "In this chat, tap Attach 📎 next to where you type.\n"
                "Then tap Voice note 🎤, record your voice and send it."
            ]
            assert await learner.taps("Next ➡️") == ["How do you send a voice note in this chat?"]
            assert "Tap Attach 📎, then Voice note 🎤" in learner.buttons()
            assert await learner.taps("Tap Attach 📎, then Voice note 🎤") == [
                "Yes! Attach 📎, then Voice note 🎤.",
                "Your turn. Send me a voice note. Just say hello!",
            ]
    finally:
        await coach.store.close()


@pytest.mark.usefixtures("telegram_runtime")
async def test_telegram_teaches_holding_the_microphone(
    database_url: str, engine: object, tmp_path: Path
) -> None:
    async with coach_on_telegram(database_url, curriculum=voice_course(tmp_path)) as (coach, tg):
        learner = TelegramLearner(coach, tg, tg.user(1001, "Amina"))
        await learner.says("/start")
        await learner.taps("English")
        await learner.taps("Basics")
        await learner.taps("Voice notes (3 min)")
        said = await learner.taps("Next ➡️")
        assert said == [
            "Hold the microphone 🎤 next to where you type.\n"
            "Speak. Let go to send. To cancel, slide your finger to the left.\n"
            "You see a camera 📷 there? Tap it once: the microphone comes back."
        ]
        assert await learner.taps("Next ➡️") == ["How do you send a voice note?"]
        assert "Hold the microphone and speak" in learner.buttons()


async def test_whatsapp_teaches_holding_the_microphone_and_its_lock(
    database_url: str, engine: object, tmp_path: Path
) -> None:
    async with coach_on_whatsapp(database_url, curriculum=voice_course(tmp_path)) as (coach, graph):
        learner = WhatsAppLearner(coach, graph, "33600000001", "Amina")
        await learner.says("hello")
        await learner.taps("English")
        await learner.taps("Basics")
        await learner.taps("Voice notes (3 min)")
        said = await learner.taps("Next ➡️")
        assert said == [
            "Hold the microphone 🎤 next to where you type.\n"
            "Speak. Let go to send. To cancel, slide your finger to the left.\n"
            "A long message? Slide up to the lock 🔒, then you can let go.\n\n1. Next ➡️"
        ]


PLACE_LESSON = """\
title: Where we meet
minutes: 1
steps:
  - id: look
    kind: message
    image: media/buttons.png
    alt: A map with a pin on the library.
    text: We meet at the library.
  - id: place
    kind: practice
    expect: location
    prompt: Send me your location.
    hint: Tap 📎, then Location.
    success: I see where you are!
  - id: recap
    kind: checkpoint
    text: You shared a place.
"""


async def test_a_bridged_group_reads_the_picture_and_does_the_task_on_the_phone(
    database_url: str, engine: object, tmp_path: Path
) -> None:
    course = small_course(tmp_path, {"place": PLACE_LESSON}, {"media/buttons.png": SAMPLE_PNG})
    code = practice_code("place/place")
    async with coach_on_matterbridge(database_url, curriculum=course) as (coach, bridge):
        amina = BridgedPerson(coach, bridge, AMINA)
        for typed in ("/start", "1", "1"):
            await amina.says(typed)
        said = await amina.says("1")  # the lesson
        assert said[0].endswith(
            "We meet at the library.\n\n1. Next ➡️\n🖼 A map with a pin on the library."
        )
        said = await amina.says("1")
        assert said[0] == (
            "Amina: Send me your location.\n\n📵 Locations cannot come through this chat.\n\n"
            "Do it on your phone instead (in another chat, or just for yourself). "
            f"Then type {code} here. I cannot check it from here.\n\n1. Skip this task"
        )
        said = await amina.says(str(code))
        assert "I cannot see your phone from here, so I did not check it." in said[0]
        assert "I see where you are!" not in said[0]
        assert said[0].endswith("You shared a place.\n\n1. Finish the lesson ✅")
        async with reading(coach) as session:
            names = list(await session.scalars(select(EventRow.name).order_by(EventRow.id)))
        assert "practice_unchecked" in names and "practice_done" not in names


async def test_the_web_chat_gives_a_lesson_picture_its_description(
    database_url: str, engine: object, tmp_path: Path
) -> None:
    course = small_course(tmp_path, {"place": PLACE_LESSON}, {"media/buttons.png": SAMPLE_PNG})
    coach = build(settings_for(database_url, curriculum=course))
    try:
        async with TestClient(TestServer(coach.web)) as client:
            learner = WebLearner(client)
            await learner.says("/start")
            await learner.taps("English")
            await learner.taps("Basics")
            await learner.taps("Where we meet (1 min)")  # its cost, and the choice
            await learner.taps("▶️ Start")
            pictured = [m for m in learner.last if m["media"]]
            assert pictured[0]["text"] == "We meet at the library."
            assert pictured[0]["media"] == {
                "kind": "image",
                "url": "/curriculum/media/buttons.png",
                "alt": "A map with a pin on the library.",
            }
    finally:
        await coach.store.close()
