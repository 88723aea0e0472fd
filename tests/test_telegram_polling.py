"""Long polling handles the updates fetched together chat by chat: each chat's in order,
chats side by side, and an update not handled holds back the confirmation of the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import telegram
from aiogram.types import Update as AiogramUpdate

from bot.channels.telegram.polling import Polling, chat_of
from bot.services.coach import Unavailable


def update(update_id: int, chat: int) -> SimpleNamespace:
    return SimpleNamespace(
        update_id=update_id, message=SimpleNamespace(chat=SimpleNamespace(id=chat))
    )


class Telegram:
    """getUpdates from a list, remembering each offset asked; stops the loop once drained."""

    def __init__(self, updates: list[SimpleNamespace]) -> None:
        self.updates = updates
        self.offsets: list[int | None] = []
        self.polling: Polling | None = None

    async def fetch(self, offset: int | None, wait: int) -> Sequence[Any]:
        self.offsets.append(offset)
        waiting = [u for u in self.updates if offset is None or u.update_id >= offset]
        if not waiting and wait and self.polling is not None:
            self.polling._stopping.set()
        return waiting if wait else []


async def test_one_chat_waiting_does_not_hold_up_the_others_and_each_chat_keeps_its_order() -> None:
    telegram_ = Telegram([update(1, 10), update(2, 20), update(3, 10), update(4, 20)])
    handled: list[int] = []
    first_may_end = asyncio.Event()

    async def process(item: SimpleNamespace) -> None:
        if item.update_id == 1:
            await first_may_end.wait()  # chat 10's first turn waits for the database
        handled.append(item.update_id)
        if item.update_id == 4:
            first_may_end.set()  # chat 20 went on meanwhile, both its updates in order

    polling = Polling(telegram_.fetch, process)
    telegram_.polling = polling
    async with asyncio.timeout(10):
        await polling._run()
    assert handled == [2, 4, 1, 3]
    assert telegram_.offsets[:2] == [None, 5]  # all four confirmed together


async def test_an_update_not_handled_holds_back_its_chat_and_the_confirmation() -> None:
    telegram_ = Telegram([update(1, 10), update(2, 20), update(3, 10), update(4, 20)])
    handled: list[int] = []
    database_away = True
    paused, resume = asyncio.Event(), asyncio.Event()

    async def process(item: SimpleNamespace) -> None:
        if item.update_id == 2 and database_away:
            raise Unavailable
        handled.append(item.update_id)

    async def pause(failures: int) -> None:
        paused.set()
        await resume.wait()

    polling = Polling(telegram_.fetch, process)
    telegram_.polling = polling
    polling._pause = pause  # type: ignore[method-assign]
    run = asyncio.create_task(polling._run())
    async with asyncio.timeout(10):
        await paused.wait()
        # Chat 20's later update waited; chat 10 went on; nothing confirmed past update 1.
        assert handled == [1, 3]
        assert telegram_.offsets == [None]
        database_away = False
        resume.set()
        await run
    assert telegram_.offsets[:3] == [None, 2, 5]  # asked again from update 2
    assert handled == [1, 3, 2, 4, 3]  # 3 fetched again: the coach knows it by its key


def test_the_chat_of_an_update_from_either_library() -> None:
    message = {
        "message_id": 7,
        "date": 0,
        "chat": {"id": 1001, "type": "private"},
        "from": {"id": 1001, "is_bot": False, "first_name": "Amina"},
        "text": "1",
    }
    press = {
        "id": "q1",
        "from": {"id": 1001, "is_bot": False, "first_name": "Amina"},
        "chat_instance": "c",
        "data": "x",
        "message": {**message, "chat": {"id": -4001, "type": "group", "title": "Class"}},
    }
    for body, chat in (({"message": message}, 1001), ({"callback_query": press}, -4001)):
        assert chat_of(AiogramUpdate.model_validate({"update_id": 1, **body})) == chat
        assert chat_of(telegram.Update.de_json({"update_id": 1, **body}, None)) == chat
    assert chat_of(SimpleNamespace(update_id=1)) is None
