"""A database error in the log, traceback included, names the table and the constraint that
failed, never the learner's text, name or chat id (SQLAlchemy would print the statement's
parameters; PostgreSQL quotes the values in its message and DETAIL)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.tables import Learner, OutboxRow
from bot.store.unit_of_work import Store
from bot.tracebacks import without_messages
from tests.telegram_learner import coach_behind_webhook, post_update

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TEXT = "I sleep at 14 rue Zephyrine, call 0611223344"
NAME = "Zuleikha"
CHAT = "73914226"
log = logging.getLogger("tests.privacy_logs")


def a_learner() -> Learner:
    return Learner(
        channel="telegram",
        chat_id=CHAT,
        user_id=CHAT,
        first_name=NAME,
        timezone="Europe/Paris",
        created_at=NOW,
        last_seen_at=NOW,
    )


def a_message(learner_id: int, dedupe_key: str, language: str | None = "en") -> OutboxRow:
    return OutboxRow(
        learner_id=learner_id,
        channel="telegram",
        chat_id=CHAT,
        text=TEXT,
        language=language,
        dedupe_key=dedupe_key,
        not_before=NOW,
        created_at=NOW,
    )


async def failing(store: Store, *rows: object) -> None:
    """Insert the rows; the database refuses them and the error is logged with its traceback."""
    try:
        async with store.unit_of_work() as uow:
            uow.session.add_all(rows)
    except IntegrityError:
        log.exception("insert refused")
    else:
        raise AssertionError("the database took the rows")


async def test_a_refused_insert_logs_no_text_name_or_chat_id(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(engine)
    async with store.unit_of_work() as uow:
        learner = a_learner()
        uow.session.add(learner)
        await uow.session.flush()
        uow.session.add(a_message(learner.id, f"tg:m:{CHAT}:1"))
    with caplog.at_level(logging.ERROR):
        await failing(store, a_learner())  # the same person twice
        await failing(store, a_message(learner.id, f"tg:m:{CHAT}:1"))  # the same message twice
        await failing(store, a_message(learner.id, f"tg:m:{CHAT}:2", language=None))
    assert len(caplog.records) == 3
    assert all(record.exc_info for record in caplog.records)
    logged = caplog.text
    for secret in (TEXT, "Zephyrine", NAME, CHAT):
        assert secret not in logged
    assert "learners" in logged and "outbox" in logged  # still says what failed
    assert "IntegrityError" in logged


async def test_an_update_that_cannot_be_read_logs_where_it_failed_not_what_it_said(
    database_url: str, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    person = {"id": int(CHAT), "is_bot": False, "first_name": NAME}
    broken = {
        "update_id": 7,
        "message": {
            "message_id": 1,
            "date": 1772442000,
            "chat": {**person, "type": "private"},
            "from": person,
            "text": {"said": TEXT},  # text that is not a string: the library refuses it
        },
    }
    async with coach_behind_webhook(database_url) as (_coach, _tg, hook):
        with caplog.at_level(logging.INFO):
            assert await post_update(hook, broken) == 500
    failed = [r for r in caplog.records if "call failed" in r.getMessage()]
    assert len(failed) == 1
    assert "ValidationError (its message is not logged)" in failed[0].getMessage()
    for secret in (TEXT, "Zephyrine", NAME, CHAT):
        assert secret not in caplog.text


def test_a_traceback_without_messages_keeps_where_and_what_type_for_the_whole_chain() -> None:
    def parse(said: str) -> None:
        try:
            {"known": 1}[said]
        except KeyError as error:
            raise ValueError(f"cannot read {said!r} from {NAME} in chat {CHAT}") from error

    with pytest.raises(ValueError) as raised:
        parse(TEXT)
    shown = without_messages(raised.value)
    for secret in (TEXT, NAME, CHAT):
        assert secret not in shown
    assert shown.index("builtins.KeyError") < shown.index("builtins.ValueError")
    assert shown.count("in parse") == 2 and "test_privacy_logs.py" in shown
