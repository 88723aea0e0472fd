"""The web chat page in the browser's language, and its words in any offered language.

``index.html`` holds ``{{key}}`` marks; the page is filled from the catalogs for the
browser's language, so the first paint is already in it. When the conversation is in
another language, ``chat.js`` asks ``/webchat/texts/{language}`` and switches.
"""

from __future__ import annotations

import hashlib
import json
import re
from html import escape
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.i18n import Catalogs
from bot.web.errors import language_hint
from bot.web.fonts import Fonts
from bot.web.page_texts import page_language
from bot.web.static_files import StaticFiles

TEMPLATE = Path(__file__).parent / "static" / "index.html"
MARK = re.compile(r"\{\{(\w+)\}\}")
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8}){0,3}$")
TEXTS_MAX_AGE = "public, max-age=3600"
FILES = {"css": "chat.css", "js": "chat.js", "manifest": "manifest.webmanifest"}


class ChatPage:
    def __init__(
        self,
        catalogs: Catalogs,
        default_language: str,
        fonts: Fonts,
        max_upload_mb: int,
        static: StaticFiles | None = None,
    ) -> None:
        self.catalogs = catalogs
        self.static = static
        self.default_language = default_language
        self.fonts = fonts
        self.max_upload_mb = max_upload_mb
        self.template = TEMPLATE.read_text(encoding="utf-8")
        self._languages: dict[str, dict[str, Any]] = {}
        self._pages: dict[str, tuple[str, str]] = {}

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/", self.page),
            web.get("/webchat/texts/{language}", self.texts),
            *self.fonts.routes(),
        ]

    def language(self, code: str) -> dict[str, Any]:
        """The page's words in one language (the catalogs do not change while running)."""
        if code not in self._languages:
            self._languages[code] = page_language(
                self.catalogs, code, self.fonts, self.max_upload_mb
            )
        return self._languages[code]

    def render(self, code: str) -> str:
        language = self.language(code)
        values = {**language["texts"], "lang": language["lang"], "dir": language["dir"]}
        # The words chat.js needs at once, as data rather than script (the CSP allows none).
        values["page"] = json.dumps(language, ensure_ascii=False, separators=(",", ":"))
        for mark, name in FILES.items():
            found = self.static and name in self.static.files
            values[mark] = self.static.url(name) if self.static and found else f"/static/{name}"
        fonts = language["fonts"]

        def fill(mark: re.Match[str]) -> str:
            if mark.group(1) == "fonts":
                return f'<link id="fonts" rel="stylesheet" href="{escape(fonts)}">' if fonts else ""
            return escape(values[mark.group(1)])

        return MARK.sub(fill, self.template)

    def rendered(self, code: str) -> tuple[str, str]:
        """The page in one language and its ETag (neither changes while running)."""
        if code not in self._pages:
            html = self.render(code)
            self._pages[code] = html, f'"{hashlib.sha256(html.encode()).hexdigest()[:16]}"'
        return self._pages[code]

    def version(self) -> str:
        """One hash of the page in every language: it changes with any word or file."""
        tags = "".join(self.rendered(code)[1] for code in sorted(self.catalogs.languages))
        return hashlib.sha256(tags.encode()).hexdigest()[:12]

    async def page(self, request: web.Request) -> web.Response:
        """The page, checked each time: a page the phone has is answered 304, a few bytes."""
        code = self.catalogs.best_match(language_hint(request), self.default_language)
        html, etag = self.rendered(code)
        headers = {"Vary": "Accept-Language", "Cache-Control": "no-cache", "ETag": etag}
        if etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
        return web.Response(text=html, content_type="text/html", headers=headers)

    async def texts(self, request: web.Request) -> web.Response:
        """The words of one language, for a conversation in another language than the phone's."""
        tag = request.match_info["language"]
        if not LANGUAGE_TAG.match(tag):
            raise web.HTTPNotFound()
        code = self.catalogs.best_match(tag, self.default_language)
        return web.json_response(self.language(code), headers={"Cache-Control": TEXTS_MAX_AGE})
