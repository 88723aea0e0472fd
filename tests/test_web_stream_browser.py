"""The web chat in Debian's Chromium: an idle page makes no request at all (the stream's
heartbeat is not one), and messages written while it is open appear without a poll.

The heartbeat is scaled to a second here (``COACH_WEB_STREAM_HEARTBEAT_SECONDS``), so a few
seconds of idling stand for minutes. Skipped when /usr/bin/chromium is missing, except in CI.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web

from bot.app import Coach, build
from bot.store.database import create_engine, upgrade
from bot.store.tables import OutboxRow
from bot.store.unit_of_work import Store
from bot.web.app import CONVERSATION_KEYS
from tests.chromium import chromium
from tests.conftest import settings_for

PHONE: Any = {"width": 390, "height": 844}
HEARTBEAT = 1.0
CHECK = 2.0


@dataclass
class Served:
    coach: Coach
    loop: asyncio.AbstractEventLoop
    url: str
    database_url: str

    def run(self, coroutine: Any, timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def served(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The coach in a thread of its own, with its loop at hand to write as it would."""
    folder = tmp_path_factory.mktemp("stream")
    database_url = f"sqlite+aiosqlite:///{folder}/c.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COACH_WEB_STREAM_HEARTBEAT_SECONDS", str(HEARTBEAT))
        patch.setenv("COACH_WEB_STREAM_CHECK_SECONDS", str(CHECK))
        coach = build(settings_for(database_url, secret_key_file=folder / "secret.key"))
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stop = asyncio.Event()
    found: dict[str, str] = {}

    async def serve() -> None:
        await upgrade(coach.store.engine)
        runner = web.AppRunner(coach.web, access_log=None, shutdown_timeout=5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        found["url"] = f"http://127.0.0.1:{runner.addresses[0][1]}"
        started.set()
        await stop.wait()
        await runner.cleanup()
        await coach.store.close()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(30)
    yield Served(coach, loop, found["url"], database_url)
    loop.call_soon_threadsafe(stop.set)
    thread.join(30)
    loop.close()


async def write(store: Store, chat_id: str, text: str) -> None:
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


async def write_elsewhere(database_url: str, chat_id: str, text: str) -> None:
    """As another coach process would: its own connection, nobody told."""
    other = Store(create_engine(database_url))
    try:
        await write(other, chat_id, text)
    finally:
        await other.close()


def path(url: str) -> str:
    """The path and query, the credential left out."""
    return re.sub(r"[\w-]{43}", "<c>", url.split("/", 3)[3])


def opened(browser: Any, served: Served) -> tuple[Any, Any, list[str], str]:
    """A learner's page at the language choice, settled: its requests from now on, its chat."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB")
    page = context.new_page()
    page.goto(served.url)
    page.get_by_role("button", name="English").wait_for()
    page.wait_for_function("!!localStorage.getItem('coach:c')")
    credential = page.evaluate("localStorage.getItem('coach:c')")
    chat_id = served.coach.web[CONVERSATION_KEYS].chat_id(credential)
    assert chat_id is not None
    time.sleep(0.5)  # the stream opens once the first answer is in
    requests: list[str] = []
    page.on("request", lambda r: requests.append(f"{r.method} {path(r.url)}"))
    return context, page, requests, chat_id


def test_an_idle_page_makes_no_request_while_its_stream_beats(browser: Any, served: Served) -> None:
    context, page, requests, chat_id = opened(browser, served)
    time.sleep(HEARTBEAT * 6)  # six heartbeats: six minutes at the real interval
    assert requests == []
    served.run(write(served.coach.store, chat_id, "Still there after six heartbeats"))
    page.locator(".msg.bot", has_text="Still there after six heartbeats").wait_for(timeout=3000)
    assert requests == []
    context.close()


def test_messages_written_while_the_page_is_open_appear_without_a_poll(
    browser: Any, served: Served
) -> None:
    context, page, requests, chat_id = opened(browser, served)
    page.get_by_role("button", name="English").click()  # a lesson reply: in the POST's answer
    page.get_by_role("button", name=re.compile("Basics")).wait_for()
    assert [r.split("?")[0] for r in requests] == ["POST api/webchat/<c>"]
    assert "?stream=" in requests[0]  # the replies come in its answer only
    requests.clear()
    began = time.monotonic()
    served.run(write(served.coach.store, chat_id, "Nadia (volunteer): hello!"))
    page.locator(".msg.bot", has_text="Nadia (volunteer): hello!").wait_for(timeout=3000)
    assert time.monotonic() - began < 1.5  # told by the coach at once, not by a check
    served.run(write_elsewhere(served.database_url, chat_id, "Written by another process"))
    page.locator(".msg.bot", has_text="Written by another process").wait_for(
        timeout=(CHECK * 1.2 + 2) * 1000
    )
    assert requests == []
    texts = page.locator(".msg.bot .text").all_inner_texts()
    assert len(texts) == len(set(texts))  # nothing shown twice
    context.close()


def test_where_streams_do_not_get_through_the_page_polls(browser: Any, served: Served) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB")
    context.route(re.compile(r".*/stream\?.*"), lambda route: route.abort())
    page = context.new_page()
    page.goto(served.url)
    page.get_by_role("button", name="English").wait_for()
    credential = page.evaluate("localStorage.getItem('coach:c')")
    chat_id = served.coach.web[CONVERSATION_KEYS].chat_id(credential)
    assert chat_id is not None
    polls: list[str] = []
    page.on("request", lambda r: polls.append(path(r.url)) if "?after=" in r.url else None)
    served.run(write(served.coach.store, chat_id, "Through a proxy that cuts streams"))
    page.locator(".msg.bot", has_text="Through a proxy that cuts streams").wait_for(timeout=15000)
    assert polls and all(p.startswith("api/webchat/<c>?after=") for p in polls)
    context.close()


def test_a_returning_learner_gets_the_page_from_the_service_worker(
    browser: Any, served: Served
) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB")
    page = context.new_page()
    page.goto(served.url)
    page.get_by_role("button", name="English").wait_for()
    assert page.evaluate("navigator.serviceWorker.getRegistrations().then(r => r.length)") == 0
    page.close()
    page = context.new_page()  # the second visit installs the service worker
    page.goto(served.url)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.close()
    page = context.new_page()
    kept: list[str] = []
    page.on("response", lambda r: kept.append(path(r.url)) if r.from_service_worker else None)
    page.goto(served.url)
    page.get_by_role("button", name="English").wait_for()
    assert "" in kept  # the page itself
    assert any(p.startswith("static/chat.js?v=") for p in kept)
    context.close()
