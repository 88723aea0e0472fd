"""The fake Telegram Bot API, driven by the real aiogram and python-telegram-bot clients."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
import telegram
import telegram.error
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiohttp import ClientSession

from tests.fakes import FakeTelegram, FloodLimits, fake_telegram
from tests.fakes.telegram_people import SAMPLE_OGG, SAMPLE_PNG


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def aiogram_bot(
    tg: FakeTelegram, token: str | None = None, client_timeout: float = 10.0
) -> AsyncIterator[Bot]:
    api = TelegramAPIServer.from_base(tg.base_url)
    session = AiohttpSession(api=api, timeout=client_timeout)
    async with Bot(token or tg.token, session=session) as bot:
        yield bot


def ptb_bot(tg: FakeTelegram) -> telegram.Bot:
    return telegram.Bot(tg.token, base_url=tg.bot_api_url, base_file_url=tg.file_api_url)


def yes_no() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="Yes", callback_data="answer:yes"),
                InlineKeyboardButton(text="No", callback_data="answer:no"),
            ]
        ]
    )


async def test_aiogram_sends_messages_with_buttons_as_a_learner_sees_them() -> None:
    async with fake_telegram() as tg, aiogram_bot(tg) as bot:
        amina = tg.user(1001, "Amina", language_code="fr")
        me = await bot.get_me()
        first = await bot.send_message(amina.id, "Ready?", reply_markup=yes_no())
        second = await bot.send_message(amina.id, "<b>Lesson 1</b> starts", parse_mode="HTML")

        assert me.username == "coach_test_bot"
        assert (first.message_id, second.message_id) == (1, 2)
        assert first.chat.type == "private"
        assert first.from_user is not None and first.from_user.id == me.id
        assert first.reply_markup is not None
        assert first.reply_markup.model_dump() == yes_no().model_dump()
        sent = tg.sent(amina)
        assert [m.text for m in sent] == ["Ready?", "Lesson 1 starts"]
        assert sent[0].labels == ["Yes", "No"]
        assert sent[0].callback_data == ["answer:yes", "answer:no"]
        assert second.entities is not None and second.entities[0].type == "bold"
        assert tg.calls("sendmessage")[0].params["reply_markup"]["inline_keyboard"][0][0] == {
            "text": "Yes",
            "callback_data": "answer:yes",
        }
        with pytest.raises(TelegramBadRequest, match="can't parse entities"):
            await bot.send_message(amina.id, "<div>hi</div>", parse_mode="HTML")
        with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
            await bot.send_message(amina.id, "hi", reply_to_message_id=99)


async def test_editing_refuses_missing_messages_and_identical_content() -> None:
    async with fake_telegram() as tg, aiogram_bot(tg) as bot:
        amina = tg.user(1001, "Amina")
        sent = await bot.send_message(amina.id, "Question 1", reply_markup=yes_no())

        edited = await bot.edit_message_text(
            text="Question 1 — answered", chat_id=amina.id, message_id=sent.message_id
        )

        assert isinstance(edited, Message) and edited.edit_date is not None
        [record] = tg.sent(amina)
        assert record.text == "Question 1 — answered"
        assert record.labels == [] and len(record.edits) == 1
        with pytest.raises(TelegramBadRequest, match="message is not modified"):
            await bot.edit_message_text(
                text="Question 1 — answered", chat_id=amina.id, message_id=sent.message_id
            )
        with pytest.raises(TelegramBadRequest, match="message to edit not found"):
            await bot.edit_message_text(text="x", chat_id=amina.id, message_id=999)
        with pytest.raises(TelegramBadRequest, match="message to edit not found"):
            await bot.edit_message_reply_markup(
                chat_id=amina.id, message_id=999, reply_markup=yes_no()
            )


async def test_a_photo_is_uploaded_once_then_reused_and_downloadable() -> None:
    async with fake_telegram() as tg, aiogram_bot(tg) as bot:
        amina = tg.user(1001, "Amina")
        upload = BufferedInputFile(SAMPLE_PNG, filename="wifi-settings.png")

        first = await bot.send_photo(amina.id, upload, caption="Open the settings")
        assert first.photo is not None
        file_id = first.photo[-1].file_id
        again = await bot.send_photo(amina.id, file_id)
        voice = await bot.send_voice(amina.id, BufferedInputFile(SAMPLE_OGG, filename="hi.ogg"))
        file = await bot.get_file(file_id)
        downloaded = await bot.download_file(file.file_path or "")

        assert again.photo is not None and again.photo[-1].file_id == file_id
        assert (first.photo[-1].width, first.photo[-1].height) == (640, 480)
        assert [(m.kind, m.source) for m in tg.sent(amina)] == [
            ("photo", "upload"),
            ("photo", "file_id"),
            ("voice", "upload"),
        ]
        assert tg.sent(amina)[0].text == "Open the settings"
        assert voice.voice is not None and voice.voice.mime_type == "audio/ogg"
        assert downloaded is not None and downloaded.read() == SAMPLE_PNG
        with pytest.raises(TelegramBadRequest, match="can't use file of type Photo as Voice"):
            await bot.send_voice(amina.id, file_id)


async def test_commands_are_kept_per_language_and_callbacks_answered_once() -> None:
    async with fake_telegram() as tg, aiogram_bot(tg) as bot:
        amina = tg.user(1001, "Amina", language_code="fr")
        await bot.set_my_commands([BotCommand(command="start", description="Start")])
        await bot.set_my_commands(
            [BotCommand(command="aide", description="Demander de l'aide")], language_code="fr"
        )
        question = await bot.send_message(amina.id, "Ready?", reply_markup=yes_no())
        update = tg.press(amina, tg.sent(amina)[0], "No")

        query_id = update["callback_query"]["id"]
        assert update["callback_query"]["message"]["message_id"] == question.message_id
        assert await bot.answer_callback_query(query_id, text="Noted") is True
        with pytest.raises(TelegramBadRequest, match="query is too old"):
            await bot.answer_callback_query(query_id)
        assert tg.answered_callbacks[0].data == "answer:no"
        assert tg.commands[("default", "fr")] == [
            {"command": "aide", "description": "Demander de l'aide"}
        ]
        french = await bot.get_my_commands(language_code="fr")
        assert [c.command for c in french] == ["aide"]
        await bot.delete_my_commands(language_code="fr")
        assert list(tg.commands) == [("default", "")]


async def test_a_polling_dispatcher_answers_start_and_button_presses() -> None:
    router = Router()

    @router.message(CommandStart())
    async def welcome(message: Message) -> None:
        await message.answer("Welcome! Ready?", reply_markup=yes_no())

    @router.callback_query(F.data.startswith("answer:"))
    async def answered(callback: CallbackQuery) -> None:
        await callback.answer("Thanks")
        if isinstance(callback.message, Message):
            await callback.message.edit_text(f"You said {callback.data}")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    async with fake_telegram() as tg:
        amina = tg.user(1001, "Amina")
        session = AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url))
        bot = Bot(tg.token, session=session)
        polling = asyncio.create_task(
            dispatcher.start_polling(bot, handle_signals=False, polling_timeout=5)
        )

        tg.send_command(amina, "/start")
        [reply] = await tg.wait_for_sent(amina, within=2.0)
        tg.press(amina, reply, "Yes")
        await tg.wait_until(lambda: tg.last_text(amina) == "You said answer:yes", within=2.0)

        await dispatcher.stop_polling()
        await polling
        assert reply.labels == []
        assert [c.text for c in tg.answered_callbacks] == ["Thanks"]
        assert tg.pending_updates == []
        allowed = tg.calls("getUpdates")[0].params["allowed_updates"]
        assert sorted(allowed) == ["callback_query", "message"]


async def test_get_updates_long_polls_and_offset_confirms() -> None:
    async with fake_telegram() as tg, aiogram_bot(tg) as bot:
        amina = tg.user(1001, "Amina")
        waiting = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.1)
        assert not waiting.done()
        tg.send_text(amina, "hello")

        [update] = await asyncio.wait_for(waiting, 1.0)
        assert update.message is not None and update.message.text == "hello"
        assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == []
        assert tg.pending_updates == []


async def test_every_kind_of_learner_message_parses_in_both_libraries() -> None:
    async with fake_telegram() as tg, aiogram_bot(tg) as bot:
        amina = tg.user(1001, "Amina", username="amina")
        omar = tg.user(1002, "Omar")
        class_group = tg.group(-1001234567890, "Thursday class")
        hello = tg.send_text(amina, "hello")
        tg.send_text(omar, "hi all", chat=class_group)
        tg.send_command(omar, "/start", chat=class_group, mention=True)
        tg.send_photo(amina, caption="my screen")
        tg.send_voice(amina)
        tg.send_video_note(amina)
        tg.send_location(amina, 48.85, 2.35)
        tg.send_contact(amina, "+33600000000")
        tg.send_document(amina)
        tg.send_sticker(amina)
        tg.send_poll(amina, "Which day?", ["Monday", "Friday"])
        tg.forward_text(amina, "Your appointment is on Monday", origin=omar)
        tg.forward_text(amina, "Code: 1234", origin="Bank")
        tg.send_text(amina, "this one", reply_to_message_id=hello["message"]["message_id"])
        tg.edit_text(amina, hello, "hello!")
        tg.press_forged(amina, 404, "admin:delete")

        updates = await bot.get_updates()
        async with ptb_bot(tg) as ptb:
            ptb_updates = await ptb.get_updates()

        assert len(updates) == len(ptb_updates) == 16
        messages = [u.message for u in updates[:14]]
        assert all(m is not None for m in messages)
        group_message = messages[2]
        assert group_message is not None and group_message.chat.type == "supergroup"
        assert group_message.text == "/start@coach_test_bot"
        kinds = [m.content_type for m in messages if m is not None]
        assert kinds[3:10] == [
            "photo",
            "voice",
            "video_note",
            "location",
            "contact",
            "document",
            "sticker",
        ]
        assert ptb_updates[11].message is not None
        origin = ptb_updates[11].message.forward_origin
        assert isinstance(origin, telegram.MessageOriginUser) and origin.sender_user.id == omar.id
        assert updates[12].message is not None and updates[12].message.forward_origin is not None
        assert updates[12].message.forward_origin.type == "hidden_user"
        replied = messages[13]
        assert replied is not None and replied.reply_to_message is not None
        assert updates[14].edited_message is not None
        assert updates[14].edited_message.text == "hello!"
        assert updates[15].callback_query is not None
        assert updates[15].callback_query.data == "admin:delete"
        photo = updates[3].message.photo if updates[3].message else None
        file = await bot.get_file(photo[-1].file_id if photo else "")
        downloaded = await bot.download_file(file.file_path or "")
        assert downloaded is not None and downloaded.read() == SAMPLE_PNG


async def test_python_telegram_bot_sends_and_downloads_through_the_fake() -> None:
    async with fake_telegram() as tg:
        amina = tg.user(1001, "Amina")
        async with ptb_bot(tg) as bot:
            message = await bot.send_message(
                amina.id,
                "Hello",
                reply_markup=telegram.InlineKeyboardMarkup(
                    [[telegram.InlineKeyboardButton("Go", callback_data="go")]]
                ),
            )
            photo = await bot.send_photo(amina.id, io.BytesIO(SAMPLE_PNG), caption="Look")
            file = await bot.get_file(photo.photo[-1].file_id)
            data = await file.download_as_bytearray()

        assert bot.bot.username == "coach_test_bot"
        assert message.message_id == 1 and message.chat.type == "private"
        assert tg.sent(amina)[0].labels == ["Go"]
        assert tg.sent(amina)[1].source == "upload"
        assert bytes(data) == SAMPLE_PNG


async def test_flood_control_answers_429_with_retry_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # else RetryAfter.retry_after warns (PTB 22.2+)
    clock = ManualClock()
    async with fake_telegram(clock=clock) as tg, aiogram_bot(tg) as bot:
        amina = tg.user(1001, "Amina")
        class_group = tg.group(-100200, "Class")
        for n in range(3):
            await bot.send_message(amina.id, f"burst {n}")
        with pytest.raises(TelegramRetryAfter) as refused:
            await bot.send_message(amina.id, "one too many")
        assert refused.value.retry_after == 1
        clock.now += 1.0
        await bot.send_message(amina.id, "after waiting")

        for n in range(20):
            await bot.send_message(class_group.id, f"group {n}")
            clock.now += 0.5
        with pytest.raises(TelegramRetryAfter) as group_refused:
            await bot.send_message(class_group.id, "21st in a minute")
        assert group_refused.value.retry_after == 50
        assert "Too Many Requests: retry after 50" in str(group_refused.value)

        tg.limits = FloodLimits(global_per_second=5, private_burst=1)
        clock.now += 1.0
        for user_id in range(2000, 2005):
            await bot.send_message(user_id, "broadcast")
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(2006, "broadcast")
        async with ptb_bot(tg) as ptb:
            with pytest.raises(telegram.error.RetryAfter) as ptb_refused:
                await ptb.send_message(2007, "broadcast")
        assert ptb_refused.value.retry_after == timedelta(seconds=1)

        assert tg.count_429 == 4
        assert len(tg.sent(amina)) == 4


async def test_blocked_users_and_kicked_groups_are_forbidden() -> None:
    async with fake_telegram() as tg, aiogram_bot(tg) as bot:
        amina = tg.user(1001, "Amina")
        class_group = tg.group(-100200, "Class")
        tg.block(amina)
        tg.kick(class_group)

        with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
            await bot.send_message(amina.id, "Are you there?")
        with pytest.raises(TelegramForbiddenError, match="bot was kicked from the group chat"):
            await bot.send_chat_action(class_group.id, "typing")
        tg.unblock(amina)
        await bot.send_chat_action(amina.id, "typing")
        assert [c.status for c in tg.calls()] == [403, 403, 200]


async def test_wrong_token_unknown_method_and_any_encoding() -> None:
    async with fake_telegram() as tg:
        async with aiogram_bot(tg, token="42:wrong") as stranger:
            with pytest.raises(TelegramUnauthorizedError):
                await stranger.get_me()
        async with ClientSession() as http:
            url = f"{tg.base_url}/bot{tg.token}"
            async with http.post(f"{url}/sendCarrierPigeon", json={}) as unknown:
                assert unknown.status == 404
                assert await unknown.json() == {
                    "ok": False,
                    "error_code": 404,
                    "description": "Not Found: method not found",
                }
            async with http.get(f"{url}/GETME") as me:
                assert (await me.json())["result"]["is_bot"] is True
            async with http.post(f"{url}/sendMessage", json={"chat_id": 7, "text": "j"}) as j:
                assert (await j.json())["result"]["text"] == "j"
            async with http.post(f"{url}/sendMessage", data={"chat_id": "7", "text": "f"}) as f:
                assert (await f.json())["result"]["message_id"] == 2


async def test_injected_failures_and_webhook_state() -> None:
    async with fake_telegram() as tg:
        async with aiogram_bot(tg, client_timeout=0.3) as bot:
            tg.fail_next("sendMessage", 502)
            with pytest.raises(TelegramServerError):
                await bot.send_message(1001, "first try")
            await bot.send_message(1001, "second try")
            tg.fail_next("getMe", "timeout")
            with pytest.raises(TelegramNetworkError):
                await bot.get_me()

            await bot.set_webhook("https://coach.example/tg", secret_token="s3cret")
            tg.send_text(tg.user(1001, "Amina"), "hi")
            with pytest.raises(TelegramConflictError):
                await bot.get_updates()
            info = await bot.get_webhook_info()
            await bot.delete_webhook(drop_pending_updates=True)

        assert [m.text for m in tg.sent(1001)] == ["second try"]
        assert info.url == "https://coach.example/tg" and info.pending_update_count == 1
        assert tg.webhook.url == "" and tg.pending_updates == []
