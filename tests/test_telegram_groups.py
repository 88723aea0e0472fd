"""A Telegram group: every member is their own learner, answered by name, within group limits."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.store.tables import Handoff
from tests.fakes import AnsweredCallback, FakeUser, FloodLimits, fake_telegram
from tests.telegram_learner import (
    TelegramLearner,
    VirtualClock,
    coach_on_telegram,
    drained,
    learner_row,
    quiet,
    reading,
    settled,
)
from tests.telegram_volunteer import TelegramVolunteer

pytestmark = pytest.mark.usefixtures("telegram_runtime")

GREETING = "Hello! I am Coach. I help you learn to use your phone, step by step."
ALERT = "These buttons are for Amina. Send /start to begin your own lessons."


async def joined(learner: TelegramLearner) -> None:
    said = await learner.says("/start")
    assert said[0] == f"{learner.user.first_name}: {GREETING}"
    await learner.taps("English")
    await learner.taps("Basics")


async def test_two_learners_in_a_group_are_answered_by_name_and_keep_their_own_progress(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url) as (coach, tg):
        group = tg.group(-4001, "Wednesday class")
        amina = TelegramLearner(coach, tg, tg.user(1001, "Amina"), group)
        bilal = TelegramLearner(coach, tg, tg.user(1002, "Bilal"), group)
        await joined(amina)
        await joined(bilal)

        await amina.taps("First steps (2 min)")
        assert await amina.taps("Next ➡️") == ["Amina: Which is a colour?"]
        said = await bilal.taps("Replies (1 min)")
        assert said[1:] == ["Reply to the next message.", "Reply to me"]
        target = bilal.last[-1]
        said = await bilal.says("done", reply_to_message_id=target.message_id)
        assert said == ["Bilal: Good.", "Did you reply?"]
        said = await bilal.says(str(bilal.buttons().index("Yes") + 1))
        assert said[0] == "Bilal: Great." and said[1].startswith("🎉 Well done!")
        blue = str(amina.buttons().index("Blue") + 1)
        assert await amina.says(blue) == ["Amina: Yes!", "Which is an animal?"]

        asked = tg.send_command(amina.user, "/progress", chat=group)
        assert (await amina.does(asked))[0].startswith("Amina: Lessons done: 0 of 2")
        replied_to = amina.last[0].message["reply_to_message"]["message_id"]
        assert replied_to == asked["message"]["message_id"]
        assert (await bilal.says("/progress"))[0].startswith("Bilal: Lessons done: 1 of 2")
        assert (await learner_row(coach, amina.user, group)).current_lesson == "first-steps"
        assert (await learner_row(coach, bilal.user, group)).current_lesson is None


async def test_a_member_pressing_someone_elses_button_is_told_whose_it_is(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url) as (coach, tg):
        group = tg.group(-4001, "Wednesday class")
        amina = TelegramLearner(coach, tg, tg.user(1001, "Amina"), group)
        bilal = TelegramLearner(coach, tg, tg.user(1002, "Bilal"), group)
        chidi = tg.user(1003, "Chidi")
        await joined(amina)
        await joined(bilal)
        await amina.taps("First steps (2 min)")
        await amina.taps("Next ➡️")
        quiz, button = amina.button("Blue")
        sent_before = len(tg.sent(group))

        async def presses(someone: FakeUser) -> AnsweredCallback:
            answered = len(tg.answered_callbacks)
            tg.press(someone, quiz, button, chat=group)
            await tg.wait_until(lambda: len(tg.answered_callbacks) > answered)
            return tg.answered_callbacks[-1]

        for someone in (bilal.user, chidi):
            alert = await presses(someone)
            assert (alert.user_id, alert.text, alert.show_alert) == (someone.id, ALERT, True)
        await quiet(coach, tg)

        assert len(tg.sent(group)) == sent_before and quiz.edits == []
        said = await amina.taps("Blue")
        assert [text.removeprefix("Amina: ") for text in said] == ["Yes!", "Which is an animal?"]
        assert quiz.text is not None and quiz.text.endswith("✅ Blue")


async def test_group_chatter_not_meant_for_the_coach_gets_no_answer(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url) as (coach, tg):
        group = tg.group(-4001, "Wednesday class")
        amina = TelegramLearner(coach, tg, tg.user(1001, "Amina"), group)
        bilal = TelegramLearner(coach, tg, tg.user(1002, "Bilal"), group)
        chidi = TelegramLearner(coach, tg, tg.user(1003, "Chidi"), group)
        dina = TelegramLearner(coach, tg, tg.user(1004, "Dina"), group)
        for learner in (amina, bilal, dina):
            await joined(learner)
        await amina.taps("First steps (2 min)")
        await amina.taps("Next ➡️")
        await bilal.taps("Replies (1 min)")
        await dina.says("/stop")

        assert await chidi.says("Good morning everyone!") == []  # never started
        assert await chidi.does(tg.send_photo(chidi.user, chat=group)) == []
        assert await amina.says("See you on Friday") == []  # in a quiz
        assert await amina.does(tg.send_sticker(amina.user, chat=group)) == []
        assert await bilal.says("Good morning everyone!") == []  # in a practice task
        assert await dina.says("Good morning everyone!") == []  # stopped the coach

        said = await amina.says("@coach_test_bot what now?")
        assert said == [
            "Amina: Please answer with a button, or type a number from 1 to 3.",
            "Which is a colour?",
        ]
        assert await amina.says("2") == ["Amina: Yes!", "Which is an animal?"]


async def test_a_group_that_became_a_supergroup_keeps_its_learners_and_their_progress(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url) as (coach, tg):
        group, supergroup = tg.group(-4001, "Class"), tg.group(-1001234567890, "Class")
        amina = TelegramLearner(coach, tg, tg.user(1001, "Amina"), group)
        await joined(amina)
        await amina.taps("First steps (2 min)")
        tg.upgrade(group, supergroup)
        await amina.taps("Next ➡️")
        assert tg.last_text(supergroup) == "Amina: Which is a colour?"

        amina = TelegramLearner(coach, tg, amina.user, supergroup)
        assert await amina.says("2") == ["Amina: Yes!", "Which is an animal?"]
        assert (await learner_row(coach, amina.user, supergroup)).current_lesson == "first-steps"


async def test_the_coach_keeps_to_the_group_limit(database_url: str, engine: object) -> None:
    """Five messages a minute to a group on both sides: the sixth waits; no 429 ever."""
    clock = VirtualClock()
    async with (
        fake_telegram(clock=clock, limits=FloodLimits(group_per_minute=5)) as fake,
        coach_on_telegram(
            database_url, fake, group_per_minute=5, limiter_clock=clock, hold_seconds=3600
        ) as (
            coach,
            tg,
        ),
    ):
        group = tg.group(-4001, "Wednesday class")
        people = [tg.user(1001 + n, name) for n, name in enumerate(("Amina", "Bilal", "Chidi"))]
        updates = [tg.send_command(person, "/start", chat=group) for person in people]
        for update in updates:
            await settled(coach, update)

        sent = tg.sent(group)
        assert len(sent) == 6 and tg.count_429 == 0
        greeted = sorted((m.text or "").split(":")[0] for m in sent if "Hello!" in (m.text or ""))
        assert greeted == ["Amina", "Bilal", "Chidi"]
        times = [c.at for c in tg.calls("sendMessage")]
        assert all(later - earlier >= 60 for earlier, later in zip(times, times[5:], strict=False))
        assert times[5] - times[0] >= 60


PRIVATELY = (
    "Amina: To ask for a person, write to me in a private chat: "
    "https://t.me/coach_test_bot?start=help"
)


async def test_help_asked_in_a_group_goes_on_in_a_private_chat_and_group_talk_stays_there(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url) as (coach, tg):
        nadia = TelegramVolunteer(coach, tg, tg.user(4001, "Nadia"))
        await nadia.joins()
        group = tg.group(-4001, "Wednesday class")
        amina = TelegramLearner(coach, tg, tg.user(1001, "Amina"), group)
        await joined(amina)
        assert await amina.says("help") == []  # group talk: no request in public
        assert await amina.says("/help") == [PRIVATELY]
        assert amina.buttons() == ["Back to the lessons"]
        await amina.taps("Back to the lessons")
        assert await amina.taps("🙋 Talk to a person") == [PRIVATELY]
        await drained(coach)
        async with reading(coach) as session:
            assert await session.scalar(select(func.count()).select_from(Handoff)) == 0
        alone = len(tg.sent(nadia.chat_id))

        private = TelegramLearner(coach, tg, amina.user)
        said = await private.says("/start help")
        assert said == [GREETING, "Choose your language."]
        first, asked = await private.taps("English")
        assert first.startswith(
            "Each lesson takes 1 to 3 minutes. Tap a button, or type its number: 1, 2, 3…\n"
        )
        assert "🔒" in first  # the privacy notice, then the question at once
        assert asked == "A volunteer can help you. What is it about?"
        await private.taps("E-mail")
        await private.taps("No, stay anonymous")
        await drained(coach)
        assert len(tg.sent(nadia.chat_id)) == alone + 1
        await nadia.taps("✋ I take it")
        await drained(coach)
        in_group = len(tg.sent(group))

        assert await amina.says("The door code is 4521") == []
        answer = await amina.says(
            "Coach, are you there?", reply_to_message_id=amina.mine[-1].message_id
        )
        assert answer[0].startswith("Amina: ")
        assert await private.says("2") == []
        await drained(coach)
        relayed = [m.text for m in tg.sent(nadia.chat_id) if "(#1)" in (m.text or "")]
        assert relayed == ["💬 The learner (#1): 2"]
        assert await nadia.says("Hello, I am Nadia.") == []
        await drained(coach)
        assert tg.last_text(private.chat_id) == "💬 Nadia: Hello, I am Nadia."
        assert len(tg.sent(group)) == in_group + len(answer)  # nothing of the conversation
        assert all("4521" not in (m.text or "") for m in tg.sent(nadia.chat_id))
