"""Malformed requests get a 4xx with a sentence in the learner's language, never a 5xx."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import Coach, build
from bot.store.tables import OutboxRow
from tests.conftest import settings_for
from tests.web_learner import WebLearner

UNREADABLE = "I could not read this message. Please try again."


@pytest.fixture
async def learner(client: TestClient[Any, Any]) -> WebLearner:
    started = WebLearner(client)
    await started.says("/start")
    return started


async def error_of(response: Any, status: int) -> str:
    assert response.status == status, await response.text()
    body = await response.json()
    assert set(body) == {"error"} and body["error"]
    return str(body["error"])


def no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_broken_bodies_are_refused_with_a_sentence(
    learner: WebLearner, caplog: pytest.LogCaptureFixture
) -> None:
    client, url = learner.client, learner.url
    bodies: list[tuple[dict[str, str], bytes, int]] = [
        ({"Content-Type": "multipart/form-data; boundary=xyz"}, b"--xyz\r\nnonsense", 400),
        ({"Content-Type": "multipart/form-data"}, b"--\r\n", 400),
        ({"Content-Type": "application/json; charset=klingon"}, b'{"text": "hi"}', 415),
        ({"Content-Type": "application/json"}, b"[" * 50_000 + b"]" * 50_000, 413),
        ({"Content-Type": "application/json"}, b"[" * 30_000 + b"]" * 30_000, 400),
        ({"Content-Type": "application/json"}, b'{"text": 1' + b"0" * 5000 + b"}", 400),
        ({"Content-Type": "application/json"}, b'{"text": "\xff\xfe"}', 400),
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"kind=contact&name=%ff%fe", 400),
        ({"Content-Type": "application/x-www-form-urlencoded; charset=nope"}, b"kind=x", 415),
    ]
    for headers, body, status in bodies:
        assert await error_of(await client.post(url, data=body, headers=headers), status)
    no_traceback(caplog)


async def test_numbers_too_big_for_the_database_are_not_ids(
    learner: WebLearner, caplog: pytest.LogCaptureFixture
) -> None:
    for wrong in (2**63, 0, -1, "12", 1.5, True):
        await learner.says("hello", reply_to=wrong)
        assert learner.status == 400 and learner.error == UNREADABLE
    for after in (str(2**63), "9" * 30, "²", "-1"):
        response = await learner.client.get(learner.url, params={"after": after})
        assert await error_of(response, 400) == UNREADABLE
    no_traceback(caplog)


async def test_nul_bytes_and_lone_surrogates_never_reach_the_database(
    learner: WebLearner, coach: Coach, caplog: pytest.LogCaptureFixture
) -> None:
    raw = b'{"text": "a\\u0000b\\ud800c", "key": "nul-1"}'
    response = await learner.client.post(
        learner.url, data=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status == 200, await response.text()
    tapped = await learner.client.post(learner.url, json={"button": "x\x00\ud800"})
    assert tapped.status == 200
    form = await learner.client.post(
        learner.url, data={"kind": "contact", "name": "A\x00", "phone": "\x00"}
    )
    assert form.status == 200
    async with coach.store.unit_of_work() as uow:
        texts = list(await uow.session.scalars(select(OutboxRow.text)))
    assert texts and not any("\x00" in text for text in texts)
    no_traceback(caplog)


async def test_a_json_body_over_64_kb_is_refused(learner: WebLearner) -> None:
    await learner.says("x" * 70_000)
    assert learner.status == 413
    assert learner.error == "This message is too long. Please send a shorter one."


async def test_odd_paths_and_methods_get_a_clear_4xx(
    client: TestClient[Any, Any], learner: WebLearner, caplog: pytest.LogCaptureFixture
) -> None:
    for path in ("/static/" + "a" * 5000, "/static/" + "a/" * 2000, "/static/%00", "/nope"):
        response = await client.get(path)
        assert response.status == 404 and "Nothing was found" in await response.text()
    assert await error_of(await client.get("/api/" + "x" * 5000), 404)
    for method in ("DELETE", "PUT", "PROPFIND"):
        response = await client.request(method, learner.url)
        assert "error" in await response.json() and response.status == 405
    unparsable = await client.request("FOO", learner.url)  # refused by the HTTP parser itself
    assert unparsable.status == 400
    no_traceback(caplog)


@pytest.fixture
async def impatient(tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    """A coach that waits only 0.2 s for a body's next byte."""
    from bot.store.database import upgrade

    settings = settings_for(
        f"sqlite+aiosqlite:///{tmp_path}/c.db",
        secret_key_file=tmp_path / "secret.key",
        web_body_idle_seconds=0.2,
    )
    coach = build(settings)
    await upgrade(coach.store.engine)
    async with TestClient(TestServer(coach.web)) as client:
        yield client
    await coach.store.close()


async def test_a_body_shorter_than_announced_times_out_instead_of_hanging(
    impatient: TestClient[Any, Any],
) -> None:
    started = await (await impatient.post("/api/webchat")).json()
    reader, writer = await asyncio.open_connection(impatient.host, impatient.port)
    head = (
        f"POST /api/webchat/{started['conversation']} HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    writer.write(head.encode() + b'{"text": "h')
    async with asyncio.timeout(10):  # a guard against a hang, not a measure of speed
        answer = await reader.read(4096)
    writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    assert b" 408 " in status_line
    assert "too slowly" in json.loads(rest.split(b"\r\n\r\n", 1)[1])["error"]


async def test_a_client_that_hangs_up_half_way_leaves_no_error(
    impatient: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    started = await (await impatient.post("/api/webchat")).json()
    for _ in range(3):
        _reader, writer = await asyncio.open_connection(impatient.host, impatient.port)
        writer.write(
            f"POST /api/webchat/{started['conversation']} HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{".encode()
        )
        await writer.drain()
        writer.close()
        await writer.wait_closed()
    await asyncio.sleep(0.5)  # let the server notice; what is checked is the log, not time
    assert (await impatient.get("/healthz")).status == 200
    no_traceback(caplog)
