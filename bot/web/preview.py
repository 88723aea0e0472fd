"""Trainer preview: any lesson in any language, opened in the web chat, behind a token."""

from __future__ import annotations

import html
import secrets
from urllib.parse import urlencode

from aiohttp import web

from bot.course.holder import CourseHolder
from bot.i18n import Catalogs
from bot.service import CoachService, Unavailable

PAGE = """<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Coach — lesson preview</title>
<style>body{{font:17px/1.5 system-ui,sans-serif;margin:1rem;max-width:60rem}}
td,th{{padding:.25rem .5rem;text-align:start}}a{{margin-inline-end:.4rem}}</style>
<h1>Lesson preview</h1><p>Open a lesson as a learner sees it, in any language.
Each link starts a fresh conversation.</p><table>{rows}</table></html>"""


class TrainerPreview:
    def __init__(
        self, service: CoachService, courses: CourseHolder, catalogs: Catalogs, token: str | None
    ) -> None:
        self.service = service
        self.courses = courses
        self.catalogs = catalogs
        self.token = token

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/preview", self.index), web.get("/preview/start", self.start)]

    def _check(self, request: web.Request) -> str:
        if not self.token:
            raise web.HTTPNotFound(
                text="Trainer preview is off: set COACH_TRAINER_TOKEN to use it."
            )
        given = request.query.get("token", "")
        if not secrets.compare_digest(given.encode(), self.token.encode()):
            raise web.HTTPForbidden(text="The trainer token is missing or wrong.")
        return given

    async def index(self, request: web.Request) -> web.Response:
        """Every lesson, with a link per language."""
        token = self._check(request)
        rows = []
        for module in self.courses.course.modules:
            rows.append(f"<tr><th colspan=2>{html.escape(module.title)}</th></tr>")
            for lesson in module.lessons:
                links = " ".join(
                    _link(token, lesson.id, code, name)
                    for code, name in self.catalogs.names().items()
                )
                rows.append(f"<tr><td>{html.escape(lesson.title)}</td><td>{links}</td></tr>")
        return web.Response(text=PAGE.format(rows="".join(rows)), content_type="text/html")

    async def start(self, request: web.Request) -> web.Response:
        """Start the lesson in a new conversation and open the chat on it."""
        self._check(request)
        lesson, language = request.query.get("lesson", ""), request.query.get("lang", "")
        conversation = f"preview-{secrets.token_urlsafe(12)}"
        try:
            found = await self.service.preview(conversation, language, lesson)
        except Unavailable:
            raise web.HTTPServiceUnavailable(
                text="The database cannot be reached; try again."
            ) from None
        if not found:
            raise web.HTTPNotFound(text=f"No lesson {lesson!r} in language {language!r}.")
        raise web.HTTPFound(f"/?c={conversation}")


def _link(token: str, lesson: str, language: str, name: str) -> str:
    query = urlencode({"token": token, "lesson": lesson, "lang": language})
    return f'<a href="/preview/start?{html.escape(query)}">{html.escape(name)}</a>'
