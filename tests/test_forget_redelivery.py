"""After a learner erased themselves, the same "Yes, erase" delivered again (Telegram or
WhatsApp redelivers an update, the web page retries its POST) or pressed again on the old
question changes nothing and makes no learner; a new message later starts afresh."""

from __future__ import annotations

import asyncio
import copy
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Coach, build
from bot.channels.webchat import CHANNEL as WEB
from bot.services.retention import Retention
from bot.store.tables import InboundKey, Learner
from tests.builders import button, coach_service, command, sender
from tests.conftest import settings_for
from tests.fakes import whatsapp_webhooks as hook
from tests.telegram_learner import (
    TelegramLearner,
    coach_on_telegram,
    drained,
    eventually,
    quiet,
)
from tests.test_forget import scan_tables
from tests.web_learner import WebLearner
from tests.whatsapp_learner import WhatsAppLearner, coach_on_whatsapp

ERASED = "Done. I erased everything I kept about you. If you write again, we start from zero."


async def learners(coach: Coach) -> list[tuple[str, str]]:
    """Every learner row as (channel, chat id): an erased one is an ``erased:`` stub."""
    async with coach.store.unit_of_work() as uow:
        rows = await uow.session.execute(select(Learner.channel, Learner.chat_id))
        return [(channel, chat) for channel, chat in rows.all()]


async def keys_naming(coach: Coach, words: str) -> int:
    async with coach.store.unit_of_work() as uow:
        query = select(func.count()).where(InboundKey.key.contains(words))
        return int(await uow.session.scalar(query) or 0)


async def test_telegram_redelivers_yes_erase_and_nothing_comes_back(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url) as (coach, tg):
        amina = TelegramLearner(coach, tg, tg.user(1001, "Amina"))
        await amina.says("/start")
        await amina.taps("English")
        question = (await amina.says("/forget"))[-1]
        assert question.startswith("Do you want me to erase everything")
        old_question, yes_label = amina.button("Yes, erase everything")
        yes = tg.press(amina.user, old_question, yes_label)
        assert [m.text for m in await _sent_after(amina, yes)] == [ERASED]
        await drained(coach)
        assert await learners(coach) == [("telegram", "erased:1")]
        assert await keys_naming(coach, "1001") == 0

        sent = len(tg.sent(amina.user.id))
        again = tg.state.queue_update("callback_query", copy.deepcopy(yes["callback_query"]))
        pressed_again = tg.press(amina.user, old_question, yes_label)
        await quiet(coach, tg, again, pressed_again)
        assert await learners(coach) == [("telegram", "erased:1")]
        assert len(tg.sent(amina.user.id)) == sent
        await Retention(coach.store).sweep(datetime.now(UTC))  # the answer was delivered
        assert await scan_tables(coach, ["1001", "Amina"]) == []

        said = await amina.says("/start")
        assert said[-1] == "Choose your language."
        assert set(await learners(coach)) == {("telegram", "1001"), ("telegram", "erased:1")}


async def _sent_after(learner: TelegramLearner, update: dict[str, Any]) -> list[Any]:
    """What the coach sent after this update (whose key the erasure does not keep as is)."""
    chat, before = learner.chat_id, len(learner.tg.sent(learner.chat_id))
    await eventually(lambda: _more(learner, before))
    await drained(learner.coach)
    return learner.tg.sent(chat)[before:]


async def _more(learner: TelegramLearner, before: int) -> bool:
    return len(learner.tg.sent(learner.chat_id)) > before


async def test_the_web_page_retries_yes_erase_and_nothing_comes_back(
    engine: object, database_url: str
) -> None:
    coach = build(settings_for(database_url))
    async with TestClient(TestServer(coach.web)) as client:
        learner = WebLearner(client)
        await learner.says("/start")
        await learner.taps("English")
        await learner.says("/forget")
        yes = {"button": learner.payload("Yes, erase everything"), "key": "yes-erase-1"}
        chat_id = learner.chat_id
        assert [m["text"] for m in await learner.post(json=yes)] == [ERASED]
        assert await learners(coach) == [("web", "erased:1")]

        assert await learner.post(json=yes) == []  # the page did not see the answer: it retries
        assert learner.status == 200
        assert await learner.post(json={**yes, "key": "yes-erase-2"}) == []  # pressed again
        assert learner.status == 200
        assert await learners(coach) == [("web", "erased:1")]
        assert await scan_tables(coach, [chat_id]) == []

        assert (await learner.says("/start"))[-1] == "Choose your language."
        assert set(await learners(coach)) == {("web", chat_id), ("web", "erased:1")}


async def test_whatsapp_redelivers_yes_erase_and_nothing_comes_back(
    database_url: str, engine: object
) -> None:
    async with coach_on_whatsapp(database_url) as (coach, graph):
        safia = WhatsAppLearner(coach, graph, "33699887766", "Safia")
        await safia.says("hello")
        await safia.taps("English")
        await safia.says("/forget")
        yes = hook.text("33699887766", "Safia", "1")
        assert await graph.post_webhook(yes) == 200
        await drained(coach)
        sent = len(graph.to("33699887766"))
        assert await learners(coach) == [("whatsapp", "erased:1")]

        assert await graph.post_webhook(yes) == 200  # Meta delivers the same webhook again
        await drained(coach)
        assert await learners(coach) == [("whatsapp", "erased:1")]
        assert len(graph.to("33699887766")) == sent
        await Retention(coach.store).sweep(datetime.now(UTC))
        assert await scan_tables(coach, ["33699887766", "Safia"]) == []


async def test_yes_delivered_several_times_at_once_erases_once_and_makes_no_learner(
    engine: AsyncEngine,
) -> None:
    """On PostgreSQL the copies run side by side: each waits for the learner's row, which
    the first one erases."""
    service = coach_service(engine)
    for number in range(4):
        who = sender(f"person-{number}")
        for event in (command("start", who), button("lang:en", who), command("forget", who)):
            await service.handle(event, WEB)
        yes = button("forget:yes", who)
        pressed_again = button("forget:yes", who)
        copies = (yes, replace(yes), replace(yes), pressed_again)
        answers = await asyncio.gather(*(service.handle(copy_, WEB) for copy_ in copies))
        assert sorted(len(answer) for answer in answers) == [0, 0, 0, 1]
    async with service.store.unit_of_work() as uow:
        chats = list(await uow.session.scalars(select(Learner.chat_id)))
    assert sorted(chats) == [f"erased:{n}" for n in range(1, 5)]
