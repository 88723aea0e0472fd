"""The web chat's conversation credential: issued by the server, never guessed, never logged."""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import Coach, build
from bot.store.database import upgrade
from bot.store.tables import InboundKey, Learner
from tests.conftest import settings_for
from tests.web_learner import WebLearner


async def test_a_new_visitor_gets_a_credential_with_the_first_replies(
    client: TestClient[Any, Any],
) -> None:
    started = await client.post("/api/webchat", json={"text": "/start", "key": "first"})
    assert started.status == 200
    body = await started.json()
    credential = body["conversation"]
    assert len(base64.urlsafe_b64decode(credential + "=")) == 32  # 128 random bits and a tag
    assert body["messages"][0]["text"].startswith("Hello! I am Coach")
    again = await (await client.get(f"/api/webchat/{credential}")).json()
    assert [m["id"] for m in again["messages"]] == [m["id"] for m in body["messages"]]


async def test_a_conversation_can_start_empty(client: TestClient[Any, Any]) -> None:
    for started in (await client.post("/api/webchat"), await client.post("/api/webchat", json={})):
        body = await started.json()
        assert started.status == 200 and body["messages"] == []
        said = await client.post(f"/api/webchat/{body['conversation']}", json={"text": "/start"})
        assert (await said.json())["messages"][0]["text"].startswith("Hello! I am Coach")


async def test_every_start_is_a_different_conversation(client: TestClient[Any, Any]) -> None:
    first, second = WebLearner(client), WebLearner(client)
    await first.says("/start")
    await second.says("/start")
    assert first.credential != second.credential and first.chat_id != second.chat_id


async def test_a_chosen_or_guessed_id_reads_nothing_and_writes_nothing(
    client: TestClient[Any, Any],
) -> None:
    learner = WebLearner(client, language="fr")
    await learner.says("/start")
    assert learner.credential is not None
    forged = learner.credential[:-2] + ("AA" if not learner.credential.endswith("AA") else "BB")
    for guess in ("learner-0001", "a" * 43, forged, learner.chat_id):
        read = await client.get(f"/api/webchat/{guess}", headers={"Accept-Language": "fr"})
        assert read.status == 404
        body = await read.json()
        assert set(body) == {"error"} and "conversation" in body["error"].lower()
        written = await client.post(f"/api/webchat/{guess}", json={"text": "hello"})
        assert written.status == 404


async def test_the_credential_is_neither_logged_nor_stored(
    client: TestClient[Any, Any], coach: Coach, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    learner = WebLearner(client)
    await learner.says("/start")
    await learner.taps("English")
    credential = learner.credential
    assert credential is not None
    # The coach runs without an access log; the test server's own one is left out here.
    assert not [
        r for r in caplog.records if r.name != "aiohttp.access" and credential in r.getMessage()
    ]
    async with coach.store.unit_of_work() as uow:
        chat_ids = list(await uow.session.scalars(select(Learner.chat_id)))
        keys = list(await uow.session.scalars(select(InboundKey.key)))
    assert chat_ids == [learner.chat_id]
    assert keys and not any(credential in key for key in keys)


async def test_a_restart_keeps_conversations_and_a_new_key_ends_them(tmp_path: Path) -> None:
    url, key_file = f"sqlite+aiosqlite:///{tmp_path}/c.db", tmp_path / "var" / "secret.key"
    first = build(settings_for(url, secret_key_file=key_file))
    await upgrade(first.store.engine)
    async with TestClient(TestServer(first.web)) as client:
        learner = WebLearner(client)
        await learner.says("/start")
    await first.store.close()
    assert key_file.is_file()
    credential = learner.credential
    for settings, status in (
        (settings_for(url, secret_key_file=key_file), 200),
        (settings_for(url, secret_key="another key"), 404),
    ):
        restarted = build(settings)
        async with TestClient(TestServer(restarted.web)) as client:
            assert (await client.get(f"/api/webchat/{credential}")).status == status
        await restarted.store.close()


async def test_too_many_requests_from_one_client_are_told_to_wait(tmp_path: Path) -> None:
    coach = build(
        settings_for(
            f"sqlite+aiosqlite:///{tmp_path}/c.db",
            secret_key_file=tmp_path / "secret.key",
            web_rate_limit="3/minute",
        )
    )
    await upgrade(coach.store.engine)
    async with TestClient(TestServer(coach.web)) as client:
        learner = WebLearner(client, language="fr")
        for _ in range(3):
            await learner.says("/start")
            assert learner.status == 200
        polled = await client.get(learner.url, headers={"Accept-Language": "fr"})
        assert polled.status == 429
        wait = polled.headers["Retry-After"]
        assert int(wait) >= 1 and wait in (await polled.json())["error"]
    await coach.store.close()


async def test_starting_conversations_is_limited_on_its_own(tmp_path: Path) -> None:
    coach = build(
        settings_for(
            f"sqlite+aiosqlite:///{tmp_path}/c.db",
            secret_key_file=tmp_path / "secret.key",
            web_start_limit="2/minute",
        )
    )
    await upgrade(coach.store.engine)
    async with TestClient(TestServer(coach.web)) as client:
        statuses = [(await client.post("/api/webchat")).status for _ in range(3)]
        assert statuses == [200, 200, 429]
    await coach.store.close()
