"""New messages pushed on a stream of server-sent events: at once when this process writes
them, within a check when another process does; a lost stream resumes where it was; the
coach's stop ends open streams at once."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import ClientResponse, ClientSession
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.app import Coach, build, running
from bot.store.database import create_engine
from bot.store.tables import OutboxRow
from bot.store.unit_of_work import Store
from bot.web.app import CONVERSATION_KEYS
from bot.web.stream import Streams, StreamSettings
from tests.conftest import settings_for

STREAM = {"Accept": "text/event-stream"}


@pytest.fixture
def stream_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_WEB_STREAM_HEARTBEAT_SECONDS", "0.5")
    monkeypatch.setenv("COACH_WEB_STREAM_CHECK_SECONDS", "0.5")
    monkeypatch.setenv("COACH_WEB_STREAM_PER_CLIENT", "4")


@pytest.fixture
async def streaming(
    database_url: str, engine: object, stream_settings: None
) -> AsyncIterator[tuple[Coach, TestClient[Any, Any]]]:
    coach = build(settings_for(database_url))
    async with TestClient(TestServer(coach.web)) as client:
        yield coach, client
    await coach.store.close()


async def start(client: TestClient[Any, Any]) -> tuple[str, list[dict[str, Any]]]:
    started = await (await client.post("/api/webchat", json={"text": "/start"})).json()
    return started["conversation"], started["messages"]


async def write(store: Store, chat_id: str, text: str) -> None:
    """A message for the conversation, as a volunteer's or a nudge is written."""
    now = datetime.now(UTC)
    async with store.unit_of_work() as uow:
        await uow.outbox.add(
            OutboxRow(
                channel="web",
                chat_id=chat_id,
                text=text,
                buttons=[],
                media=None,
                tag=None,
                language="en",
                dedupe_key=f"test:{uuid.uuid4().hex}",
                status="sent",
                not_before=now,
                created_at=now,
                sent_at=now,
            )
        )


class Events:
    """Reads a text/event-stream response event by event."""

    def __init__(self, response: ClientResponse) -> None:
        self.response = response
        self.blocks: list[str] = []

    async def next_messages(self, within: float = 5.0) -> tuple[int, list[dict[str, Any]]]:
        async with asyncio.timeout(within):
            while True:
                block = (await self.response.content.readuntil(b"\n\n")).decode()
                self.blocks.append(block)
                fields = dict(
                    line.split(": ", 1) for line in block.strip().split("\n") if ": " in line
                )
                if "data" in fields:
                    return int(fields["id"]), json.loads(fields["data"])["messages"]

    async def nothing_for(self, seconds: float) -> list[str]:
        """What came in ``seconds`` other than comments (the heartbeat) and the reconnection
        delay (a timeout is the good outcome)."""
        seen: list[str] = []
        try:
            async with asyncio.timeout(seconds):
                while True:
                    block = (await self.response.content.readuntil(b"\n")).decode()
                    if block.strip() and not block.startswith((":", "retry:")):
                        seen.append(block)
        except TimeoutError:
            pass
        return seen


async def test_a_message_written_while_the_stream_is_open_arrives_at_once(
    streaming: tuple[Coach, TestClient[Any, Any]],
) -> None:
    coach, client = streaming
    credential, first = await start(client)
    chat_id = coach.web[CONVERSATION_KEYS].chat_id(credential)
    assert chat_id is not None
    last = max(m["id"] for m in first)
    response = await client.get(f"/api/webchat/{credential}/stream?after={last}", headers=STREAM)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert "Content-Encoding" not in response.headers
    events = Events(response)
    assert await events.nothing_for(0.3) == []
    began = time.monotonic()
    await write(coach.store, chat_id, "A volunteer: hello Sara")
    _, messages = await events.next_messages(within=2.0)
    assert [m["text"] for m in messages] == ["A volunteer: hello Sara"]
    assert time.monotonic() - began < 0.4  # told by this process, not found by the check
    response.close()


async def test_a_message_another_process_writes_arrives_within_a_check(
    streaming: tuple[Coach, TestClient[Any, Any]], database_url: str
) -> None:
    coach, client = streaming
    credential, first = await start(client)
    chat_id = coach.web[CONVERSATION_KEYS].chat_id(credential)
    assert chat_id is not None
    response = await client.get(
        f"/api/webchat/{credential}/stream",
        headers={**STREAM, "Last-Event-ID": str(first[-1]["id"])},
    )
    events = Events(response)
    other = Store(create_engine(database_url))
    try:
        await write(other, chat_id, "From another coach process")
    finally:
        await other.close()
    _, messages = await events.next_messages(within=3.0)
    assert [m["text"] for m in messages] == ["From another coach process"]
    response.close()


@pytest.mark.postgres
async def test_on_postgresql_another_process_is_heard_at_once(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COACH_WEB_STREAM_CHECK_SECONDS", "30")
    coach = build(settings_for(postgres_url))
    other = Store(create_engine(postgres_url))
    try:
        async with TestClient(TestServer(coach.web)) as client:
            credential, first = await start(client)
            chat_id = coach.web[CONVERSATION_KEYS].chat_id(credential)
            assert chat_id is not None
            response = await client.get(
                f"/api/webchat/{credential}/stream?after={first[-1]['id']}", headers=STREAM
            )
            events = Events(response)
            assert await events.nothing_for(0.5) == []  # listening by now
            began = time.monotonic()
            await write(other, chat_id, "A volunteer helped by another process")
            _, messages = await events.next_messages(within=5.0)
            assert [m["text"] for m in messages] == ["A volunteer helped by another process"]
            assert time.monotonic() - began < 1.0  # heard, not found by the check
            response.close()
    finally:
        await other.close()
        await coach.store.close()


async def test_a_lost_stream_resumes_from_the_last_id_without_losing_or_repeating(
    streaming: tuple[Coach, TestClient[Any, Any]],
) -> None:
    coach, client = streaming
    credential, first = await start(client)
    chat_id = coach.web[CONVERSATION_KEYS].chat_id(credential)
    assert chat_id is not None
    response = await client.get(f"/api/webchat/{credential}/stream?after=0", headers=STREAM)
    events = Events(response)
    last, messages = await events.next_messages()
    assert [m["id"] for m in messages] == [m["id"] for m in first]
    await write(coach.store, chat_id, "one")
    last, messages = await events.next_messages()
    assert [m["text"] for m in messages] == ["one"]
    response.close()  # the connection is lost; meanwhile two more messages are written
    await write(coach.store, chat_id, "two")
    await write(coach.store, chat_id, "three")
    again = await client.get(
        f"/api/webchat/{credential}/stream?after=0", headers={**STREAM, "Last-Event-ID": str(last)}
    )
    events = Events(again)
    got: list[str] = []
    while len(got) < 2:
        _, messages = await events.next_messages()
        got += [m["text"] for m in messages]
    assert got == ["two", "three"]
    assert await events.nothing_for(1.2) == []
    again.close()


async def test_replies_the_page_was_answered_are_not_sent_again_on_its_stream(
    streaming: tuple[Coach, TestClient[Any, Any]],
) -> None:
    _coach, client = streaming
    credential, first = await start(client)
    url = f"/api/webchat/{credential}"
    response = await client.get(f"{url}/stream?key=page1&after={first[-1]['id']}", headers=STREAM)
    events = Events(response)
    answer = await client.post(f"{url}?stream=page1", json={"text": "/menu"})
    assert (await answer.json())["messages"]
    assert await events.nothing_for(1.0) == []
    other = await client.get(f"{url}/stream?key=page2&after={first[-1]['id']}", headers=STREAM)
    _, pushed = await Events(other).next_messages()
    assert pushed  # another tab of the same conversation is told
    response.close()
    other.close()


async def test_a_heartbeat_keeps_an_idle_stream_alive_with_two_bytes(
    streaming: tuple[Coach, TestClient[Any, Any]],
) -> None:
    _coach, client = streaming
    credential, first = await start(client)
    response = await client.get(
        f"/api/webchat/{credential}/stream?after={first[-1]['id']}", headers=STREAM
    )
    async with asyncio.timeout(5):
        opening = await response.content.readuntil(b"\n\n")
        assert opening.startswith(b"retry: ")
        beats = [await response.content.readuntil(b"\n") for _ in range(2)]
    assert beats == [b":\n", b":\n"]
    response.close()


async def test_one_client_may_open_only_so_many_streams(
    streaming: tuple[Coach, TestClient[Any, Any]],
) -> None:
    _coach, client = streaming
    opened = []
    for _ in range(4):
        credential, _first = await start(client)
        opened.append(await client.get(f"/api/webchat/{credential}/stream", headers=STREAM))
    assert [r.status for r in opened] == [200] * 4
    credential, _first = await start(client)
    refused = await client.get(f"/api/webchat/{credential}/stream", headers=STREAM)
    assert refused.status == 429 and "Retry-After" in refused.headers
    assert "error" in await refused.json()
    for response in opened:
        response.close()


async def test_a_stream_with_a_wrong_credential_or_id_is_refused(
    streaming: tuple[Coach, TestClient[Any, Any]],
) -> None:
    _coach, client = streaming
    credential, _first = await start(client)
    assert (await client.get("/api/webchat/guessed/stream", headers=STREAM)).status == 404
    bad = await client.get(
        f"/api/webchat/{credential}/stream", headers={**STREAM, "Last-Event-ID": "x"}
    )
    assert bad.status == 400
    assert (
        await client.get(f"/api/webchat/{credential}/stream?key=a%20b", headers=STREAM)
    ).status == 400
    assert (await client.get(f"/api/webchat/{credential}/stream")).status == 406


async def test_stopping_the_coach_ends_an_open_stream_at_once(
    database_url: str, engine: object
) -> None:
    coach = build(settings_for(database_url, web_port=0))
    async with ClientSession() as http:
        async with running(coach) as url:
            async with http.post(f"{url}/api/webchat", json={"text": "/start"}) as started:
                credential = (await started.json())["conversation"]
            response = await http.get(
                f"{url}/api/webchat/{credential}/stream?after=99999", headers=STREAM
            )
            assert response.status == 200
            await response.content.readuntil(b"\n\n")
            began = time.monotonic()
        stopped = time.monotonic() - began
        async with asyncio.timeout(2):
            rest = await response.content.read()
        response.close()
    assert stopped < 3.0, stopped
    assert b"data" not in rest


async def test_a_stream_that_opens_or_ends_during_another_write_breaks_nothing(
    streaming: tuple[Coach, TestClient[Any, Any]],
) -> None:
    """On PostgreSQL a write's announcement lets other tasks run in the middle of its flush
    hooks; a page that opens or loses its stream then must leave that write whole."""
    coach, client = streaming
    credential, _ = await start(client)
    chat_id = coach.web[CONVERSATION_KEYS].chat_id(credential)
    assert chat_id is not None
    streams = Streams(coach.store, "web", StreamSettings())
    opened_and_ended = 0

    def meanwhile(_session: Session, _context: Any) -> None:
        nonlocal opened_and_ended
        with streams.open("another", "10.0.0.9", None, 0):  # the first stream of its process
            opened_and_ended += 1

    event.listen(Session, "after_flush", meanwhile)
    try:
        await write(coach.store, chat_id, "kept")  # raised "deque mutated during iteration"
    finally:
        event.remove(Session, "after_flush", meanwhile)
    await streams.close()
    assert opened_and_ended == 1
    response = await client.get(f"/api/webchat/{credential}/stream?after=0", headers=STREAM)
    _, messages = await Events(response).next_messages()
    assert "kept" in [m["text"] for m in messages]
    response.close()
