"""While a volunteer helps, everything the learner sends on Telegram reaches the volunteer; one
button takes the learner back to the lessons and another back into the conversation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import Coach
from bot.store.tables import Handoff
from tests.fakes import FakeTelegram
from tests.telegram_learner import TelegramLearner, coach_on_telegram, drained, reading
from tests.telegram_volunteer import TelegramVolunteer

pytestmark = pytest.mark.usefixtures("telegram_runtime")


async def helped(coach: Coach, tg: FakeTelegram) -> tuple[TelegramLearner, TelegramVolunteer]:
    """Amina asked for a person; Nadia took the request."""
    nadia = TelegramVolunteer(coach, tg, tg.user(4001, "Nadia"))
    await nadia.joins()
    amina = TelegramLearner(coach, tg, tg.user(1001, "Amina", "en"))
    for step in ("/start", "English", "/help", "E-mail", "No, stay anonymous"):
        await (amina.says(step) if step.startswith("/") else amina.taps(step))
    await drained(coach)
    await nadia.taps("✋ I take it")
    await drained(coach)
    return amina, nadia


def relayed(tg: FakeTelegram, nadia: TelegramVolunteer) -> list[str]:
    return [m.text or "" for m in tg.sent(nadia.chat_id) if "The learner (#1)" in (m.text or "")]


async def request(coach: Coach) -> Handoff:
    async with reading(coach) as session:
        found = await session.scalar(select(Handoff))
    assert found is not None
    return found


async def test_typed_numbers_reach_the_volunteer_and_back_to_the_lessons_makes_them_choices(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url) as (coach, tg):
        amina, nadia = await helped(coach, tg)
        for typed in ("1", "2", "3", "٣"):
            assert await amina.says(typed) == []
        await drained(coach)
        assert relayed(tg, nadia) == [f"💬 The learner (#1): {n}" for n in ("1", "2", "3", "٣")]
        assert (await request(coach)).status == "claimed"

        assert await amina.says("/help") == ["Nadia is helping you with your request."]
        assert amina.buttons() == ["Back to the lessons", "Cancel my request"]
        said = await amina.taps("Back to the lessons")
        assert said == [
            "OK. When Nadia writes, you can answer with the button under the message.",
            "What would you like to do?",
        ]
        assert amina.buttons()[:3] == ["Basics", "My progress", "💬 Write to Nadia"]
        assert (await request(coach)).step == "lessons"
        assert await amina.says("1") == ["Basics: choose a lesson."]

        await amina.says("/menu")
        said = await amina.says("3")
        assert said == [
            "Write your message here: I pass it on to Nadia. "
            "To go back to the lessons, tap the button."
        ]
        assert await amina.says("2") == []
        await drained(coach)
        assert relayed(tg, nadia)[-1] == "💬 The learner (#1): 2"
        assert (await request(coach)).step is None


async def test_after_the_request_is_closed_its_buttons_offer_the_menu(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url) as (coach, tg):
        amina, nadia = await helped(coach, tg)
        await amina.says("/help")
        await amina.taps("Back to the lessons")
        await nadia.says("/done")
        await nadia.taps("Solved by chat")
        await drained(coach)
        await amina.taps("⭐⭐⭐⭐⭐")
        assert await amina.taps("No comment") == ["Thank you for your answer."]
        assert amina.buttons() == ["Back to the lessons"]
        said = await amina.taps("💬 Write to Nadia")
        assert said == ["This button is from an earlier message.", "What would you like to do?"]
        assert "🙋 Talk to a person" in amina.buttons()
        assert await amina.says("/cancel") == [
            "You have no request for a person to cancel.",
            "What would you like to do?",
        ]
