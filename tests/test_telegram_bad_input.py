"""Bad input on Telegram: forged buttons, vanished messages, edits, odd updates; no crash."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from bot.store.unit_of_work import Store, UnitOfWork
from tests.telegram_learner import (
    TelegramLearner,
    coach_behind_webhook,
    coach_on_telegram,
    handled,
    learner_row,
    post_update,
    quiet,
)

pytestmark = pytest.mark.usefixtures("telegram_runtime")

SORRY = "Sorry, something went wrong on our side. Please send your message again in a few minutes."


async def in_the_first_quiz(learner: TelegramLearner) -> None:
    await learner.says("/start")
    await learner.taps("English")
    await learner.taps("Basics")
    await learner.taps("First steps (2 min)")
    assert await learner.taps("Next ➡️") == ["Which is a colour?"]


async def test_forged_and_vanished_buttons_are_answered_and_forged_ones_change_nothing(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url) as (coach, tg):
        amina = TelegramLearner(coach, tg, tg.user(1001, "Amina"))
        await in_the_first_quiz(amina)
        quiz = amina.last[-1]

        for forged in ("evil:payload", "lang:xx", "les:no-such-lesson/../x", "x" * 64):
            said = await amina.does(tg.press_forged(amina.user, quiz.message_id, forged))
            assert said == ["This button does not work any more.", "Which is a colour?"]
            assert tg.answered_callbacks[-1].data == forged
        said = await amina.does(
            tg.press_forged(amina.user, quiz.message_id, "ans:first-steps/colour/9")
        )
        assert said == ["This button is from an earlier message.", "Which is a colour?"]

        assert quiz.edits == []
        row = await learner_row(coach, amina.user)
        assert (row.current_lesson, row.language) == ("first-steps", "en")

        # A button on a message that no longer exists (Telegram says "inaccessible") works.
        answered = len(tg.answered_callbacks)
        gone = tg.press_forged(amina.user, 9999, "ans:first-steps/colour/1")
        assert await amina.does(gone) == ["Yes!", "Which is an animal?"]
        assert len(tg.answered_callbacks) == answered + 1
        assert tg.calls("editMessageText") == []

        # A press Telegram gives no message for (a button under an inline message).
        inline = tg.state.queue_update(
            "callback_query",
            {
                "id": tg.state.new_callback_id(amina.user.id, "menu"),
                "from": amina.user.to_api(),
                "inline_message_id": "AAAAAQ",
                "chat_instance": "42",
                "data": "menu",
            },
        )
        await tg.wait_until(lambda: len(tg.answered_callbacks) == answered + 2)
        await quiet(coach, tg, inline)
        assert tg.answered_callbacks[-1].id == inline["callback_query"]["id"]


async def test_an_edit_a_sticker_or_a_poll_changes_nothing_and_gets_the_hint_at_most(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url) as (coach, tg):
        amina = TelegramLearner(coach, tg, tg.user(1001, "Amina"))
        await in_the_first_quiz(amina)
        table, blue = (str(amina.buttons().index(word) + 1) for word in ("Table", "Blue"))
        typed = tg.send_text(amina.user, table)
        assert await amina.does(typed) == [
            "Which is a colour?\n\n❌ Table\n\nNot quite.\n\nTry again."
        ]
        before = len(tg.sent(amina.chat_id))

        edit = tg.edit_text(amina.user, typed, blue)  # the edit does not answer the quiz
        await quiet(coach, tg, edit)
        assert len(tg.sent(amina.chat_id)) == before and tg.pending_updates == []
        assert await amina.says(blue) == ["Yes!", "Which is an animal?"]
        assert await amina.taps("Cat") == ["Right, a cat.", "Send a photo of a cup."]

        assert await amina.does(tg.send_sticker(amina.user)) == ["Tap the paper clip, then Photo."]
        assert amina.buttons() == ["Skip this task"]
        poll = tg.send_poll(amina.user, "Which cup?", ["Red", "Blue"])
        assert await amina.does(poll) == ["Tap the paper clip, then Photo."]
        said = await amina.does(tg.send_photo(amina.user))
        assert said == ["Nice photo!", "You answered a quiz and sent a photo."]


async def test_a_command_for_another_bot_in_a_group_is_ignored(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url) as (coach, tg):
        group = tg.group(-4001, "Wednesday class")
        amina = TelegramLearner(coach, tg, tg.user(1001, "Amina"), group)

        other = tg.send_text(amina.user, "/start@weather_bot", chat=group)
        await quiet(coach, tg, other)
        assert tg.sent(group) == [] and not await handled(coach, other)

        said = await amina.says("/start", mention=True)
        assert said[0].startswith("Amina: Hello! I am Coach.")


async def test_updates_the_coach_does_not_handle_are_acknowledged_and_ignored(
    database_url: str, engine: object
) -> None:
    async with coach_behind_webhook(database_url) as (coach, tg, hook):
        amina, group = tg.user(1001, "Amina"), tg.group(-4001, "Wednesday class")
        person, chat = amina.to_api(), group.chat()
        member = {"user": person, "status": "member"}
        others: list[dict[str, Any]] = [
            {
                "channel_post": {
                    "message_id": 1,
                    "date": 1,
                    "chat": {"id": -1009, "type": "channel", "title": "News"},
                    "text": "/start",
                }
            },
            {
                "message_reaction": {
                    "chat": chat,
                    "message_id": 1,
                    "user": person,
                    "date": 1,
                    "old_reaction": [],
                    "new_reaction": [{"type": "emoji", "emoji": "👍"}],
                }
            },
            {
                "chat_member": {
                    "chat": chat,
                    "from": person,
                    "date": 1,
                    "old_chat_member": {**member, "status": "left"},
                    "new_chat_member": member,
                }
            },
            {
                "my_chat_member": {
                    "chat": chat,
                    "from": person,
                    "date": 1,
                    "old_chat_member": {**member, "status": "left"},
                    "new_chat_member": member,
                }
            },
            {
                "poll": {
                    "id": "1",
                    "question": "Q?",
                    "options": [],
                    "total_voter_count": 0,
                    "is_closed": True,
                    "is_anonymous": True,
                    "type": "regular",
                    "allows_multiple_answers": False,
                    "allows_revoting": False,
                    "members_only": False,
                }
            },
        ]
        edited = tg.send_text(amina, "1", chat=group)
        tg.edit_text(amina, edited, "2", chat=group)
        updates = [update for update in tg.take_updates() if "edited_message" in update]
        updates += [{"update_id": 900 + n, **other} for n, other in enumerate(others)]

        for update in updates:
            assert await post_update(hook, update) == 200, next(iter(update.keys() - {"update_id"}))
        await quiet(coach, tg)
        assert tg.calls("sendMessage") == []


class UnreachableDatabase:
    """A store whose database refuses connections while it is ``down`` (or ``failures`` more)."""

    def __init__(self, store: Store, failures: int) -> None:
        self.store = store
        self.failures = failures
        self.refused = 0

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        if self.failures > 0:
            self.failures -= 1
            self.refused += 1
            raise ConnectionRefusedError("the database is restarting")
        async with self.store.unit_of_work() as uow:
            yield uow


async def test_a_message_sent_while_the_database_is_down_stays_with_telegram_until_it_is_back(
    database_url: str, engine: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.channels.telegram.polling.RETRY_DELAYS", (0.01,))
    async with coach_on_telegram(database_url) as (coach, tg):
        amina = TelegramLearner(coach, tg, tg.user(1001, "Amina"))
        monkeypatch.setattr(coach.service, "store", UnreachableDatabase(coach.store, 3))
        said = await amina.says("/start")
        assert said[0].startswith("Hello! I am Coach.") and len(said) == 2

        down = UnreachableDatabase(coach.store, 10**9)
        monkeypatch.setattr(coach.service, "store", down)
        english = tg.send_text(amina.user, "1")
        await tg.wait_until(lambda: down.refused >= 5)  # the coach keeps trying
        assert not await handled(coach, english) and not tg.done_with(english)
        assert english in tg.pending_updates and len(tg.sent(amina.user)) == 2

        down.failures = 0  # the database is back: the message is handled, nothing is lost
        assert await amina.does(english)
        assert (await learner_row(coach, amina.user)).language == "en"
        assert tg.pending_updates == [] and SORRY not in [m.text for m in tg.sent(amina.user)]


async def test_behind_a_webhook_a_message_that_finds_the_database_down_is_sent_again(
    database_url: str, engine: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with coach_behind_webhook(database_url) as (coach, tg, hook):
        amina = tg.user(1001, "Amina")
        monkeypatch.setattr(coach.service, "store", UnreachableDatabase(coach.store, 1))
        update = tg.send_command(amina, "/start")
        assert await post_update(hook, update) == 500  # Telegram sends it again later
        assert not await handled(coach, update) and tg.sent(amina) == []

        assert await post_update(hook, update) == 200
        await tg.wait_for_sent(amina, 2)
        assert tg.sent(amina)[0].text is not None
        assert tg.sent(amina)[0].text.startswith("Hello! I am Coach.")
