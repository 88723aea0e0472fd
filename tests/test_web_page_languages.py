"""The web chat in a real browser (Debian's Chromium, at phone width) in all eight languages.

Skipped when /usr/bin/chromium is missing, except in CI (CI=true), where that fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from bot.i18n import Catalogs
from bot.web.page_texts import PAGE_TEXTS
from tests.chromium import chromium
from tests.conftest import ROOT, settings_for
from tests.web_server import LiveCoach, live_coach

LANGUAGES = ["en", "fr", "ar", "fa_AF", "ps", "uk", "ru", "ti"]
TAGS = {"fa_AF": "fa-AF"}
RIGHT_TO_LEFT = {"ar", "fa_AF", "ps"}
PHONE: Any = {"width": 390, "height": 844}
CATALOGS = Catalogs(ROOT / "locales", LANGUAGES, "en")
TIGRINYA = "ሰላም! ትግርኛ ብቐሊሉ ንመሃር።"


def words(code: str, key: str) -> str:
    return CATALOGS.render(PAGE_TEXTS[key], code)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def coach(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCoach]:
    folder = tmp_path_factory.mktemp("browser")
    settings = settings_for(
        f"sqlite+aiosqlite:///{folder}/c.db",
        languages=LANGUAGES,
        secret_key_file=folder / "secret.key",
    )
    with live_coach(settings) as live:
        yield live


def phone(browser: Any, locale: str = "en-GB") -> Any:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale=locale)
    return context, context.new_page()


def labels(page: Any) -> dict[str, str]:
    return {
        "send": page.locator("#send").inner_text(),
        "attach": page.locator("#attach").inner_text(),
        "placeholder": page.locator("#msg").get_attribute("placeholder"),
    }


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_controls_speak_the_language_the_learner_chooses(
    browser: Any, coach: LiveCoach, code: str
) -> None:
    context, page = phone(browser)
    page.goto(coach.url)
    page.get_by_role("button", name=re.compile(re.escape(CATALOGS.names()[code]))).click()
    tag = TAGS.get(code, code)
    page.wait_for_selector(f"html[lang='{tag}']", state="attached")  # the page switched
    assert page.evaluate("document.documentElement.dir") == (
        "rtl" if code in RIGHT_TO_LEFT else "ltr"
    )
    shown = labels(page)
    assert shown == {key: words(code, key) for key in shown}
    if code != "en":
        assert all(shown[key] != words("en", key) for key in shown)
    page.locator("#attach").click()
    assert page.locator("#menu").inner_text().split("\n")[0] == words(code, "photo")
    context.close()


def test_a_phone_in_dari_gets_the_page_in_dari_before_anything_is_said(
    browser: Any, coach: LiveCoach
) -> None:
    context, page = phone(browser, locale="fa-AF")
    page.goto(coach.url)
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == [
        "fa-AF",
        "rtl",
    ]
    assert labels(page)["send"] == words("fa_AF", "send")
    context.close()


def test_reply_is_offered_only_under_the_message_a_lesson_asks_to_reply_to(
    browser: Any, coach: LiveCoach
) -> None:
    context, page = phone(browser)
    page.goto(coach.url)
    page.get_by_role("button", name="English").click()
    page.get_by_role("button", name=re.compile("Basics")).click()
    page.get_by_role("button", name=re.compile("Replies")).click()
    target = page.locator(".msg.bot", has_text="Reply to me")
    target.locator(".act").click()
    assert page.locator(".act").count() == 1
    page.locator("#msg").fill("done")
    page.locator("#send").click()
    page.locator(".msg.bot", has_text="Good.").wait_for()
    context.close()


def tigrinya_width(browser: Any, coach: LiveCoach, fonts: bool) -> float:
    """How wide a Tigrinya sentence is drawn on a Tigrinya phone, with or without our font."""
    context, page = phone(browser, locale="ti")
    served: list[Any] = []
    if fonts:
        page.on("response", lambda r: served.append(r) if r.url.endswith(".woff2") else None)
    else:
        page.route("**/fonts/**", lambda route: route.abort())
    page.goto(coach.url)
    width: float = page.evaluate(
        """async (text) => {
            const line = document.getElementById('log').appendChild(document.createElement('p'))
                .appendChild(document.createElement('span'));
            line.textContent = text;
            await document.fonts.load('18px "Noto Sans Ethiopic"', text).catch(() => null);
            await document.fonts.ready;
            return line.getBoundingClientRect().width;
        }""",
        TIGRINYA,
    )
    if fonts:
        loaded = page.evaluate(
            "[...document.fonts].filter(f => f.family.includes('Ethiopic')).map(f => f.status)"
        )
        assert loaded == ["loaded"]
        assert [r.status for r in served] == [200]
        assert "immutable" in served[0].headers["cache-control"]
    context.close()
    return width


def test_tigrinya_is_drawn_with_the_served_font_not_the_fallback(
    browser: Any, coach: LiveCoach
) -> None:
    with_font = tigrinya_width(browser, coach, fonts=True)
    fallback = tigrinya_width(browser, coach, fonts=False)
    assert with_font > 0 and abs(with_font - fallback) > 5
