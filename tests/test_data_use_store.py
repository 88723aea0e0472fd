"""The query behind ``/data`` on SQLite and PostgreSQL: what one learner's chat carried,
both ways, since a moment."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.data_use import Sent, Traffic
from bot.core.events import Sender
from bot.course.model import Media, MediaKind
from bot.store.data_use import traffic_since
from bot.store.tables import OutboxRow
from bot.store.unit_of_work import Store
from tests.builders import NOW

SINCE = NOW - timedelta(days=7)
PICTURE = {"kind": "image", "path": "media/buttons.png", "size": 20_000, "alt": "Two buttons"}
_ids = itertools.count(1)


def message(learner_id: int, chat: str, sent_at: datetime | None, **fields: Any) -> OutboxRow:
    values: dict[str, Any] = {
        "learner_id": learner_id,
        "channel": "telegram",
        "chat_id": chat,
        "text": "Hello",
        "language": "en",
        "dedupe_key": f"d{next(_ids)}",
        "status": "sent" if sent_at is not None else "pending",
        "not_before": NOW,
        "created_at": NOW,
        "sent_at": sent_at,
        "text_bytes": 5,
        **fields,
    }
    return OutboxRow(**values)


async def test_delivered_messages_by_file_and_the_learners_own_since_the_start(
    engine: AsyncEngine,
) -> None:
    store = Store(engine)
    amina, bilal = Sender("telegram", "11", "11"), Sender("telegram", "22", "22")
    async with store.unit_of_work() as uow:
        row, _ = await uow.learners.load_or_create(amina, NOW, "Europe/Paris")
        other, _ = await uow.learners.load_or_create(bilal, NOW, "Europe/Paris")
        me = row.id
        for row_values in (
            message(me, "11", NOW - timedelta(hours=1)),
            message(me, "11", NOW - timedelta(days=6), text_bytes=40),
            message(me, "11", NOW - timedelta(days=2), media=PICTURE, text_bytes=30),
            message(me, "11", NOW - timedelta(days=1), media=PICTURE, status="read"),
            message(me, "11", NOW - timedelta(days=1), status="delivered", text_bytes=None),
            message(me, "11", NOW - timedelta(days=8), text_bytes=999),  # before the week
            message(me, "11", None),  # not sent yet
            message(me, "11", NOW - timedelta(days=1), status="failed"),  # reported failed
            message(me, "11", NOW, media={"kind": "copy", "from_chat": "9", "message_id": "3"}),
            message(other.id, "22", NOW),  # someone else's
        ):
            await uow.outbox.add(row_values)
        for key, at in (("a", NOW), ("b", NOW - timedelta(days=3)), ("c", NOW - timedelta(days=9))):
            await uow.remember_inbound(f"k:{key}", me, at)
        await uow.remember_inbound("k:other", other.id, NOW)

    async with store.reading() as uow:
        found = await traffic_since(uow.session, me, "telegram", "11", SINCE)
        nobody = await traffic_since(uow.session, other.id, "telegram", "22", NOW + timedelta(1))

    picture = Media(MediaKind.IMAGE, "media/buttons.png", 20_000)
    assert found.received == 2
    assert sorted(found.sent, key=lambda s: s.words) == [
        Sent(1, 5, None),  # the copied photo: a message, its file's size unknown
        Sent(2, 35, picture),
        Sent(3, 45, None),  # a row from before the byte count counts no words
    ]
    assert nobody == Traffic()
