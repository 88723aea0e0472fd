"""Learners take lessons in Telegram: the real aiogram stack against the fake Bot API server."""

from __future__ import annotations

from tests.telegram_learner import TelegramLearner, coach_on_telegram


async def test_a_learner_takes_a_whole_lesson_in_telegram(
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
        assert said == ["📘 First steps — about 2 min.", "Hello there."]
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

        assert await learner.says("1") == ["Right, a cat.", "Send a photo of a cup."]
        said = await learner.does(tg.send_photo(learner.user))
        assert said == ["Nice photo!", "You answered a quiz and sent a photo."]
        said = await learner.taps("Finish the lesson ✅")
        assert said[0].startswith("🎉 Well done! You finished “First steps”.")
        said = await learner.says("/progress")
        assert said[0].startswith("Lessons done: 1 of 2")
        assert (
            all(a.text is None for a in tg.answered_callbacks) and len(tg.answered_callbacks) == 6
        )
