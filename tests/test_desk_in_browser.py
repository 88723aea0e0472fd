"""The demo's story in a real browser (Debian's Chromium), on both databases: a learner in one
tab asks for a person, a volunteer in another signs in and takes it, they talk, the volunteer
closes it and the learner rates. The volunteer's desk at phone width and at desktop width.

Skipped when /usr/bin/chromium is missing, except in CI (CI=true), where that fails.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bot.services.coach import utc_now
from bot.services.volunteers import Volunteers
from bot.store.database import create_engine
from bot.store.unit_of_work import Store
from tests.chromium import chromium
from tests.conftest import emptied, settings_for
from tests.web_server import live_coach

PHONE: Any = {"width": 390, "height": 844}
DESKTOP: Any = {"width": 1280, "height": 800}
WAIT = 20_000  # ms: the learner's page asks for new messages every 5 s


@pytest.fixture
def browser(database_url: str) -> Iterator[Any]:
    """Started after the database: PostgreSQL's is made with an event loop of its own."""
    with chromium() as browser:
        yield browser


def sign_in_link(database_url: str, name: str) -> str:
    """An empty, migrated database with one volunteer (a coordinator), and the path of what
    `coach volunteer invite` prints for the browser. Run in a thread of its own: the
    browser's driver holds this thread's event loop."""

    async def invite() -> str:
        engine = create_engine(database_url)
        await emptied(engine)
        store = Store(engine)
        try:
            made = await Volunteers(store, utc_now).invite(name, [], [], "", coordinator=True)
        finally:
            await store.close()
        return f"/desk/sign-in/{made.web_token}"

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, invite()).result()


def button(page: Any, label: str) -> Any:
    return page.get_by_role("button", name=re.compile(re.escape(label)))


def says(page: Any, text: str) -> None:
    page.locator("#msg").fill(text)
    page.locator("#send").click()


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_a_learner_asks_a_volunteer_takes_it_they_talk_it_closes_the_learner_rates(
    browser: Any, database_url: str, tmp_path: Path, width: str
) -> None:
    settings = settings_for(database_url, secret_key_file=tmp_path / "secret.key")
    link = sign_in_link(database_url, "Nadia")
    with live_coach(settings) as coach:
        learner_tab = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        desk_tab = browser.new_context(viewport=PHONE if width == "phone" else DESKTOP)
        learner, desk = learner_tab.new_page(), desk_tab.new_page()
        learner.set_default_timeout(WAIT)
        desk.set_default_timeout(WAIT)

        learner.goto(coach.url)
        button(learner, "English").click()
        button(learner, "Basics").wait_for()
        says(learner, "/help")
        button(learner, "E-mail").click()
        button(learner, "No, stay anonymous").click()
        learner.locator(".msg.bot", has_text="I am asking the volunteers now").wait_for()

        desk.goto(coach.url + link)
        desk.get_by_role("button", name="Sign in").click()
        card = desk.locator("article.card", has_text="Topic: E-mail")
        card.get_by_role("button", name="✋ I take it").click()
        desk.locator("h1", has_text="#1").wait_for()
        fits = "document.scrollingElement.scrollWidth <= window.innerWidth"
        assert desk.evaluate(fits), "the desk does not fit the screen's width"

        learner.locator(".msg.bot", has_text="Nadia will help you").wait_for()
        says(learner, "My e-mail asks for a code")
        desk.locator("#messages li.learner", has_text="My e-mail asks for a code").wait_for()
        desk.locator("#write textarea").fill("Look for a message from your provider.")
        desk.locator("#write button").click()
        desk.locator("#messages li.you", has_text="Look for a message").wait_for()
        learner.locator(".msg.bot", has_text="💬 Nadia: Look for a message").wait_for()

        desk.locator("summary").click()
        desk.locator("select[name=outcome]").select_option("chat")
        desk.get_by_role("button", name="Close", exact=True).click()
        desk.get_by_text("This request is closed.").wait_for()
        learner.locator(".msg.bot", has_text="How was the help you got?").wait_for()
        button(learner, "⭐⭐⭐⭐⭐").click()
        learner.locator(".msg.bot", has_text="Would you like to add a comment?").wait_for()

        desk.goto(coach.url + "/desk/all")
        row = desk.locator("tr", has_text="Nadia")
        assert "⭐⭐⭐⭐⭐" in row.inner_text() and "Solved by chat" in row.inner_text()
        assert desk.evaluate(fits) or width == "phone"  # the wide table scrolls on a phone
        learner_tab.close()
        desk_tab.close()
    assert coach.log.troubles() == []
