"""``/data`` in the web chat, in Telegram and on WhatsApp: a learner takes a lesson with a
picture, asks, and reads the figure the rows of what moved add up to."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from babel.numbers import format_decimal
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import Coach, build
from bot.channels.telegram.inbound import CHANNEL as TELEGRAM
from bot.channels.webchat import CHANNEL as WEB
from bot.channels.whatsapp.inbound import CHANNEL as WHATSAPP
from bot.core.channel import Capabilities
from bot.i18n import Catalogs, data_size
from bot.services.coach import utc_now
from bot.store.tables import InboundKey, Learner, MediaFile, OutboxRow
from tests.builders import PICTURE_LESSON
from tests.conftest import settings_for
from tests.fakes.telegram_people import SAMPLE_PNG
from tests.telegram_learner import (
    TelegramLearner,
    coach_on_telegram,
    drained,
    learner_row,
    reading,
    small_course,
)
from tests.web_learner import WebLearner
from tests.whatsapp_learner import WhatsAppLearner, coach_on_whatsapp
from tests.whatsapp_learner import learner_row as wa_learner_row

DELIVERED = ("sent", "delivered", "read")


def picture_course(folder: Path) -> Path:
    return small_course(
        folder, {"buttons": PICTURE_LESSON}, media={"media/buttons.png": SAMPLE_PNG}
    )


def words(row: OutboxRow) -> int:
    """The bytes of a message's words, from its text while the outbox still holds it."""
    alt = (row.media or {}).get("alt") or ""
    labels = "".join(button["label"] for button in row.buttons)
    return len(row.text.encode()) + len(labels.encode()) + len(alt.encode())


async def expected_figure(session: AsyncSession, learner: Learner, channel: Capabilities) -> str:
    """The sentence the rows of the last 7 days add up to, in English.

    Each coach message is its words and the channel's protocol (on the web chat the protocol
    is counted once per exchange, with the learner's message); each picture the size the
    channel keeps with what comes besides it; each learner's message one message's protocol.
    """
    since = utc_now() - timedelta(days=7)
    rows = list(
        await session.scalars(
            select(OutboxRow).where(
                OutboxRow.learner_id == learner.id,
                OutboxRow.sent_at >= since,
                OutboxRow.status.in_(DELIVERED),
            )
        )
    )
    received = await session.scalar(
        select(func.count()).where(InboundKey.learner_id == learner.id, InboundKey.at >= since)
    )
    assert rows and received
    kept = {
        file.path: (file.size, file.kept_size)
        for file in await session.scalars(
            select(MediaFile).where(MediaFile.channel == channel.name)
        )
    }
    for row in rows:
        assert row.text_bytes == words(row)  # what the count keeps, for when the text is wiped
    exchanges = received if channel.pull else received + len(rows)
    text = sum(words(row) for row in rows) + channel.message_bytes * exchanges
    pictures = [row.media for row in rows if row.media is not None]
    media = 0
    for picture in pictures:
        shipped, kept_size = kept.get(picture["path"], (None, None))
        size = kept_size if kept_size and shipped == picture["size"] else picture["size"]
        media += size + channel.media_overhead
    assert len(pictures) == 1
    messages = len(rows) + received
    return (
        f"In the last 7 days our messages used about {data_size(text + media, 'en')} of your "
        f"data: {messages} messages ({data_size(text, 'en')}) and 1 picture "
        f"({data_size(media, 'en')})."
    )


@asynccontextmanager
async def web_coach(database_url: str, course: Path) -> AsyncIterator[tuple[Coach, Any]]:
    coach = build(settings_for(database_url, curriculum=course))
    try:
        async with TestClient(TestServer(coach.web)) as client:
            yield coach, client
    finally:
        await coach.store.close()


async def web_learner_row(coach: Coach, learner: WebLearner) -> Learner:
    async with coach.store.reading() as uow:
        row = await uow.session.scalar(
            select(Learner).where(Learner.channel == "web", Learner.chat_id == learner.chat_id)
        )
    assert row is not None
    return row


async def takes_the_picture_lesson(learner: WebLearner | TelegramLearner | WhatsAppLearner) -> None:
    await learner.says("/start")
    await learner.taps("English")
    await learner.taps("Basics")
    await learner.taps("Buttons (1 min)")
    said = await learner.taps("▶️ Start")
    assert said[-1].startswith("Buttons are under my message.")  # WhatsApp numbers its options
    said = await learner.taps("Next ➡️")
    assert said[0].startswith("You saw a picture.")


async def test_in_the_web_chat_data_tells_what_the_lesson_moved(
    database_url: str, engine: object, tmp_path: Path
) -> None:
    async with web_coach(database_url, picture_course(tmp_path)) as (coach, client):
        learner = WebLearner(client)
        await takes_the_picture_lesson(learner)
        row = await web_learner_row(coach, learner)
        async with coach.store.reading() as uow:
            expected = await expected_figure(uow.session, row, WEB)

        said = await learner.says("/data")
        assert said == [f"{expected}\n\nPictures are on: “Save data: no pictures” leaves them out."]
        assert learner.buttons() == ["Save data: no pictures", "Back to the menu"]
        # The learner's own words ask the same; the answer to /data is counted by then.
        again = await learner.says("how much data?")
        assert again[0].startswith("In the last 7 days our messages used about ")
        assert again != said

        said = await learner.taps("Save data: no pictures")
        assert said[0].startswith("Pictures and sounds are off")
        said = await learner.says("/data")
        assert said[0].endswith("Pictures are off to save data: “Pictures on” shows them again.")
        assert learner.buttons() == ["Pictures on", "Back to the menu"]


async def test_in_the_web_chat_a_learner_quiet_all_week_used_nothing(
    database_url: str, engine: object, tmp_path: Path
) -> None:
    async with web_coach(database_url, picture_course(tmp_path)) as (coach, client):
        learner = WebLearner(client)
        coach.service.clock = lambda: utc_now() - timedelta(days=8)
        await takes_the_picture_lesson(learner)
        coach.service.clock = utc_now
        said = await learner.says("/data")
        assert said[0].startswith(
            "In the last 7 days we sent each other no messages: I used none of your data."
        )


def french_figure(catalogs: Catalogs, messages: int, total: int) -> str:
    """The French sentence as the catalog has it (the English source until it is translated)."""
    french = catalogs.translator("fr", "messages")
    counted = french.ngettext("{n} message", "{n} messages", messages)
    return french.gettext(
        "In the last 7 days our messages used about {total} of your data: {messages}."
    ).format(
        total=data_size(total, "fr"),
        messages=counted.format(n=format_decimal(messages, locale="fr")),
    )


async def test_in_french_the_figure_is_said_in_french(
    database_url: str, engine: object, tmp_path: Path
) -> None:
    async with web_coach(database_url, picture_course(tmp_path)) as (coach, client):
        learner = WebLearner(client, language="fr-FR,fr;q=0.9")
        await learner.says("/start")
        await learner.taps("Français")
        row = await web_learner_row(coach, learner)
        async with coach.store.reading() as uow:
            mine = select(OutboxRow).where(OutboxRow.learner_id == row.id)
            sent = list(await uow.session.scalars(mine))
            received = await uow.session.scalar(
                select(func.count()).where(InboundKey.learner_id == row.id)
            )
        assert received == 2 and sent and all(r.media is None for r in sent)
        total = sum(words(r) for r in sent) + WEB.message_bytes * received
        said = await learner.says("/data")
        assert said[0].startswith(french_figure(coach.catalogs, len(sent) + received, total))
        assert data_size(total, "fr").endswith("ko")


on_both_libraries = pytest.mark.usefixtures("telegram_runtime")


@on_both_libraries
async def test_in_telegram_data_tells_what_the_lesson_moved(
    database_url: str, engine: object, tmp_path: Path
) -> None:
    async with coach_on_telegram(database_url, curriculum=picture_course(tmp_path)) as (coach, tg):
        learner = TelegramLearner(coach, tg, tg.user(1001, "Amina", "en"))
        await takes_the_picture_lesson(learner)
        await drained(coach)
        row = await learner_row(coach, learner.user)
        async with reading(coach) as session:
            expected = await expected_figure(session, row, TELEGRAM)

        said = await learner.says("/data")
        assert said == [f"{expected}\n\nPictures are on: “Save data: no pictures” leaves them out."]
        assert learner.buttons() == ["Save data: no pictures", "Back to the menu"]


@on_both_libraries
async def test_in_a_telegram_group_no_ones_own_figure_is_told(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url) as (coach, tg):
        group = tg.group(-500, "Wednesday class")
        learner = TelegramLearner(coach, tg, tg.user(1001, "Amina", "en"), chat=group)
        await learner.says("/start")
        await learner.taps("English")
        said = await learner.says("/data")
        assert said == [
            "Amina: In a group every message reaches every member's phone, "
            "so I cannot count your own data here."
        ]


async def test_on_whatsapp_data_tells_what_the_lesson_moved(
    database_url: str, engine: object, tmp_path: Path
) -> None:
    course = picture_course(tmp_path)
    async with coach_on_whatsapp(database_url, curriculum=course) as (coach, graph):
        learner = WhatsAppLearner(coach, graph, "33612345678", "Amina")
        await takes_the_picture_lesson(learner)
        async with reading(coach) as session:
            row = await wa_learner_row(coach, learner.wa_id)
            expected = await expected_figure(session, row, WHATSAPP)

        said = await learner.says("/data")
        assert said == [
            f"{expected}\n\nPictures are on: “Save data: no pictures” leaves them out."
            "\n\n1. Save data: no pictures\n2. Back to the menu"  # WhatsApp numbers its options
        ]
        assert learner.choices() == ["Save data: no pictures", "Back to the menu"]
