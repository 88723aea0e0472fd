"""The WhatsApp webhook: Meta's verification, signatures on every call, redeliveries, statuses."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from aiohttp import ClientSession
from sqlalchemy import func, select

from bot.app import Coach
from bot.config import WHATSAPP_PHONE_NUMBER_MISSING, WHATSAPP_SECRETS_MISSING, UnsafeSettings
from bot.store.tables import InboundKey, Learner
from tests.conftest import settings_for
from tests.fakes import whatsapp_webhooks as hook
from tests.fakes.whatsapp_graph import APP_SECRET, PHONE_NUMBER_ID, FakeGraph
from tests.telegram_learner import drained, eventually, reading
from tests.whatsapp_learner import (
    VERIFY_TOKEN,
    WhatsAppLearner,
    coach_on_whatsapp,
    outbox,
)

AMINA = "33612345678"
CLIENT_AND_COACH = {"bot", "pywa", "pywa_async", "httpx", "httpcore", "aiohttp"}


async def verify(url: str, **query: str) -> tuple[int, str]:
    async with ClientSession() as http, http.get(url, params=query) as answer:
        return answer.status, await answer.text()


async def test_meta_s_verification_gets_the_challenge_only_with_the_verify_token(
    database_url: str, engine: object
) -> None:
    async with coach_on_whatsapp(database_url) as (_, graph):
        url = graph.webhook_url
        ok = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
        assert await verify(url, **ok, **{"hub.verify_token": VERIFY_TOKEN}) == (200, "1158201444")
        assert (await verify(url, **ok, **{"hub.verify_token": "guess"}))[0] == 403
        assert (await verify(url, **ok))[0] == 403
        wrong_mode = {**ok, "hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN}
        assert (await verify(url, **wrong_mode))[0] == 403


async def nothing_changed(coach: Coach, graph: FakeGraph) -> None:
    async with reading(coach) as session:
        assert await session.scalar(select(func.count()).select_from(InboundKey)) == 0
        assert await session.scalar(select(func.count()).select_from(Learner)) == 0
    assert graph.sent == []


async def test_forged_webhooks_are_refused_and_change_nothing(
    database_url: str, engine: object, caplog: pytest.LogCaptureFixture
) -> None:
    secret_words = "my address is 12 rue des Lilas"
    async with coach_on_whatsapp(database_url) as (coach, graph):
        value = hook.text(AMINA, "Amina", secret_words)
        raw = json.dumps(hook.envelope(PHONE_NUMBER_ID, value)).encode()
        with caplog.at_level(logging.INFO):
            assert await graph.post_raw(raw, secret="not-the-app-secret") == 401
            assert await graph.post_raw(raw, secret=None) == 401
            assert await graph.post_raw(raw, signature="sha256=") == 401
            # A body Meta signed, replayed with a change and the signature of another body.
            other = hook.text(AMINA, "Amina", "hello")
            signed = hook.sign(
                APP_SECRET, json.dumps(hook.envelope(PHONE_NUMBER_ID, other)).encode()
            )
            assert await graph.post_raw(raw, signature=signed) == 401
            assert await graph.post_raw(raw + b" ", signature=hook.sign(APP_SECRET, raw)) == 401
        await nothing_changed(coach, graph)
        refused = [r for r in caplog.records if "refused" in r.getMessage()]
        assert len(refused) == 5
        assert all(
            secret_words not in r.getMessage() and AMINA not in r.getMessage()
            for r in caplog.records
        )


async def test_a_call_that_is_not_json_is_refused_once_its_signature_is_checked(
    database_url: str, engine: object
) -> None:
    async with coach_on_whatsapp(database_url) as (coach, graph):
        assert await graph.post_raw(b"not json") == 400
        await nothing_changed(coach, graph)


async def test_a_redelivered_message_changes_nothing(database_url: str, engine: object) -> None:
    async with coach_on_whatsapp(database_url) as (coach, graph):
        learner = WhatsAppLearner(coach, graph, AMINA, "Amina")
        await learner.says("hello")
        value = hook.text(AMINA, "Amina", "1")
        assert await learner.does(value) != []
        rows = len(await outbox(coach, AMINA))
        sent = len(graph.sent)
        assert await graph.post_webhook(value) == 200
        await drained(coach)
        assert len(await outbox(coach, AMINA)) == rows and len(graph.sent) == sent


async def test_status_webhooks_mark_the_message_delivered_read_or_failed(
    database_url: str, engine: object
) -> None:
    async with coach_on_whatsapp(database_url) as (coach, graph):
        learner = WhatsAppLearner(coach, graph, AMINA, "Amina")
        await learner.says("hello")
        await learner.taps("English")
        first, second = learner.last[0].id, learner.last[1].id

        async def status_of(message_id: str) -> tuple[str, str | None]:
            rows = [r for r in await outbox(coach, AMINA) if r.platform_message_id == message_id]
            assert len(rows) == 1
            return rows[0].status, rows[0].last_error

        assert await status_of(first) == ("sent", None)
        assert await graph.post_webhook(hook.status(AMINA, first, "delivered")) == 200
        assert await status_of(first) == ("delivered", None)
        assert await graph.post_webhook(hook.status(AMINA, first, "read")) == 200
        assert await graph.post_webhook(hook.status(AMINA, first, "delivered")) == 200  # late
        assert await status_of(first) == ("read", None)
        assert await graph.post_webhook(hook.status(AMINA, second, "failed", 131026)) == 200
        assert await status_of(second) == ("failed", "whatsapp 131026")
        # A status of a message this coach never sent is answered, and changes nothing.
        assert await graph.post_webhook(hook.status(AMINA, "wamid.unknown", "read")) == 200


async def test_a_call_the_coach_could_not_handle_is_answered_500_so_meta_sends_it_again(
    database_url: str, engine: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with coach_on_whatsapp(database_url) as (coach, graph):

        async def broken(*_: object) -> None:
            raise RuntimeError("database on fire")

        with monkeypatch.context() as patched:
            patched.setattr(coach.service, "handle", broken)
            value = hook.text(AMINA, "Amina", "hello")
            assert await graph.post_webhook(value) == 500
        assert await WhatsAppLearner(coach, graph, AMINA, "Amina").does(value) != []


def test_the_coach_refuses_to_start_whatsapp_without_its_app_secret_and_verify_token(
    tmp_path: object,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/coach.db"
    for missing in ("whatsapp_app_secret", "whatsapp_verify_token"):
        values: dict[str, Any] = {
            "whatsapp_token": "EAAG-token",
            "whatsapp_phone_number_id": PHONE_NUMBER_ID,
            "whatsapp_app_secret": APP_SECRET,
            "whatsapp_verify_token": VERIFY_TOKEN,
        }
        del values[missing]
        with pytest.raises(UnsafeSettings) as refused:
            settings_for(url, **values)
        assert str(refused.value) == WHATSAPP_SECRETS_MISSING
    with pytest.raises(UnsafeSettings) as refused:
        settings_for(
            url,
            whatsapp_token="EAAG-token",
            whatsapp_app_secret=APP_SECRET,
            whatsapp_verify_token=VERIFY_TOKEN,
        )
    assert str(refused.value) == WHATSAPP_PHONE_NUMBER_MISSING
    assert settings_for(url).whatsapp_token is None  # WhatsApp stays off without its token


async def test_logs_never_show_a_learner_s_number_or_words_even_at_debug_level(
    database_url: str, engine: object, caplog: pytest.LogCaptureFixture
) -> None:
    words = "my address is 12 rue des Lilas"
    async with coach_on_whatsapp(database_url) as (coach, graph):
        learner = WhatsAppLearner(coach, graph, AMINA, "Amina")
        with caplog.at_level(logging.DEBUG):
            await learner.says("hello")
            await learner.taps("English")
            await learner.says(words)
    # The database driver's own debug lines show query parameters: they are not the coach's.
    ours = [r for r in caplog.records if r.name.split(".")[0] in CLIENT_AND_COACH]
    assert len(ours) > 0
    shown = [f"{r.name}: {r.getMessage()}" for r in ours]
    leaks = [line for line in shown if AMINA in line or words in line or "English" in line]
    assert leaks == []


async def test_a_status_that_comes_before_the_message_id_is_stored_is_not_lost(
    database_url: str, engine: object
) -> None:
    """Meta may call the webhook with a message's status before it answers the call that
    sent it: the status is applied once the sender stores the id."""
    async with coach_on_whatsapp(database_url) as (coach, graph):
        learner = WhatsAppLearner(coach, graph, AMINA, "Amina")
        await learner.says("hello")
        graph.status_first = "delivered"
        await learner.taps("English")
        await drained(coach)

        async def answered() -> bool:
            return graph.webhook_answers.count(200) == len(learner.last)

        await eventually(answered)
        rows = (await outbox(coach, AMINA))[1:]
        assert [row.status for row in rows] == ["delivered"] * len(rows)
