"""A trainer in Chromium: signs in, opens a lesson's funnel, filters it by language,
downloads its CSV, and previews the lesson in Arabic, right to left, then in French.
Screenshots at phone and desktop width go to COACH_TEST_ARTIFACTS (else the test's folder).

Skipped when /usr/bin/chromium is missing, except in CI (CI=true), where that fails.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.services.coach import utc_now
from bot.store.database import create_engine
from bot.store.tables import EventRow, Learner
from bot.store.unit_of_work import Store
from tests.chromium import chromium
from tests.conftest import emptied, settings_for
from tests.web_server import live_coach

SIZES: dict[str, Any] = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1280, "height": 800},
}
WAIT = 20_000  # ms
STEPS = ("hello", "colour", "animal", "photo", "recap")


@pytest.fixture
def browser(database_url: str) -> Iterator[Any]:
    """Started after the database: PostgreSQL's is made with an event loop of its own."""
    with chromium() as browser:
        yield browser


def learners_went_through(database_url: str, stops: list[int]) -> None:
    """An empty, migrated database where each learner stopped at a step of "First steps"."""

    async def write() -> None:
        engine = create_engine(database_url)
        await emptied(engine)
        store = Store(engine)
        now = utc_now() - timedelta(hours=1)
        async with store.unit_of_work() as uow:
            for number, stop in enumerate(stops):
                row = Learner(
                    channel="web",
                    chat_id=f"w{number}",
                    user_id=f"w{number}",
                    language="en",
                    status="active",
                    timezone="Europe/Paris",
                    choices=[],
                    reviews=[],
                    created_at=now,
                    last_seen_at=now,
                )
                uow.session.add(row)
                await uow.session.flush()
                lesson = {"lesson": "first-steps"}
                uow.session.add(
                    EventRow(learner_id=row.id, name="lesson_started", data=lesson, at=now)
                )
                for step in STEPS[:stop]:
                    done = {**lesson, "step": step}
                    uow.session.add(
                        EventRow(learner_id=row.id, name="step_done", data=done, at=now)
                    )
                if stop == len(STEPS):
                    uow.session.add(
                        EventRow(learner_id=row.id, name="lesson_finished", data=lesson, at=now)
                    )
        await store.close()

    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, write()).result()


def artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("COACH_TEST_ARTIFACTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize("width", list(SIZES))
def test_a_trainer_reads_a_funnel_downloads_it_and_previews_in_arabic(
    browser: Any, database_url: str, tmp_path: Path, width: str
) -> None:
    stops = [0] * 5 + [2] * 6 + [5] * 7
    learners_went_through(database_url, stops)
    settings = settings_for(
        database_url, trainer_token="s3cret", secret_key_file=tmp_path / "secret.key"
    )
    shots = artifacts(tmp_path)
    with live_coach(settings) as coach:
        context = browser.new_context(viewport=SIZES[width], accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(WAIT)
        page.goto(coach.url + "/trainer")
        page.get_by_label("Trainer token").fill("s3cret")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Lesson preview").wait_for()

        page.get_by_role("link", name="figures", exact=True).first.click()
        page.get_by_role("heading", name="First steps").wait_for()
        assert page.locator("svg.funnel g.step").count() == len(STEPS)
        assert "18 learners started" in page.locator("main").inner_text()
        fits = "document.scrollingElement.scrollWidth <= window.innerWidth"
        assert page.evaluate(fits), "the funnel page does not fit the screen's width"
        page.screenshot(path=str(shots / f"trainer-funnel-{width}.png"), full_page=True)

        with page.expect_download() as download:
            page.locator("#funnel caption a.csv").click()
        rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
        assert rows[0] == ["step", "reached", "stopped"]
        assert rows[1] == ["hello", "18", "5"] and rows[3] == ["animal", "13", "6"]

        page.get_by_label("Language").select_option("fr")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url("**language=fr**")
        assert "0 learners started" in page.locator("main").inner_text()

        page.goto(coach.url + "/trainer")
        page.locator('a[href*="lesson=first-steps&lang=ar"]').click()
        page.wait_for_url("**/trainer/preview/first-steps/ar")
        page.locator(".msg.bot", has_text="📘").first.wait_for()
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert page.locator(".preview-bar").get_attribute("dir") == "ltr"
        direction = "getComputedStyle(document.querySelector('#log')).direction"
        assert page.evaluate(direction) == "rtl"
        assert page.get_by_text("Preview", exact=True).is_visible()
        page.screenshot(path=str(shots / f"trainer-preview-ar-{width}.png"))

        page.locator(".preview-bar").get_by_role("link", name="Français").click()
        page.wait_for_url("**/trainer/preview/first-steps/fr")
        page.locator(".msg.bot", has_text="📘").first.wait_for()
        assert page.locator("html").get_attribute("dir") == "ltr"
        page.locator(".preview-bar").get_by_role("link", name="Back to the lessons").click()
        page.get_by_role("heading", name="Lesson preview").wait_for()
        context.close()
        assert coach.log.troubles() == []
