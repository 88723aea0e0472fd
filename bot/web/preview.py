"""Trainer pages: sign in once, then open any lesson in any language in the web chat.

``GET /trainer`` shows the sign-in form, or every lesson with a link per language once
signed in. The session is an encrypted, HttpOnly, SameSite=Strict cookie; no secret is
ever in a URL. Sign-in attempts are limited per client.

A preview opens the chat page at ``/trainer/preview/<lesson>/<language>`` under a
"Preview" banner with a way back and to the other languages. Its conversation is marked
in the event log: never reminded, never counted in the figures (the course's figures and
the hand-offs', ``trainer_figures`` and ``trainer_handoffs``, reached from here).
"""

from __future__ import annotations

import html
import logging
import secrets
import time
from urllib.parse import quote, urlencode, urlsplit

from aiohttp import web
from aiohttp_session import AbstractStorage

from bot.core.channel import Capabilities
from bot.course.holder import CourseHolder
from bot.i18n import Catalogs
from bot.services.coach import CoachService, Unavailable
from bot.web.bodies import FIELD_LIMIT, Refused, charset, parse_form, read_body
from bot.web.client_limits import ClientLimits
from bot.web.errors import NOT_FOUND, Sentences
from bot.web.keys import ConversationKeys
from bot.web.page import ChatPage
from bot.web.trainer_figures import TrainerFigures
from bot.web.trainer_handoffs import HandoffPages
from bot.web.trainer_tables import NAV
from bot.web.trainer_translations import TranslationPages

log = logging.getLogger(__name__)
SESSION_HOURS = 12
HEAD = """<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Coach — trainer</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/trainer.css">"""
SIGN_IN = """{head}<h1>Trainer sign-in</h1>{note}
<form method="post" action="/trainer/sign-in"><label>Trainer token
<input name="token" type="password" autocomplete="current-password" required autofocus></label>
<button>Sign in</button></form></html>"""
LESSONS = """{head}{nav}<h1>Lesson preview</h1>
<form method="post" action="/trainer/sign-out"><button>Sign out</button></form>
<p>Open a lesson as a learner sees it, in any language.
Each link starts a fresh conversation, kept apart from the learners': no reminders,
not counted in the figures.</p>
<p><a href="/trainer/translations">Translation work</a>: per language, the texts missing,
fuzzy or not yet reviewed.</p><table>{rows}</table></html>"""
BANNER = """<div class="preview-bar" role="region" aria-label="Preview" lang="en" dir="ltr">
<p><strong>Preview</strong> of “{title}”: not counted in the figures, no reminders.</p>
<a href="/trainer">← Back to the lessons</a>
<nav aria-label="Language">{languages}</nav></div>
"""
PREVIEW_CSS = '<link rel="stylesheet" href="/static/trainer-preview.css">\n</head>'
CHAT_HEADER = "<header><h1>Coach</h1></header>"
OFF = "Trainer pages are off: set COACH_TRAINER_TOKEN to use them."


class TrainerPreview:
    def __init__(
        self,
        service: CoachService,
        courses: CourseHolder,
        catalogs: Catalogs,
        token: str | None,
        keys: ConversationKeys,
        limits: ClientLimits,
        cookies: AbstractStorage,
        channel: Capabilities,
        chat: ChatPage | None = None,
    ) -> None:
        """``channel``: the web chat, where previews open; ``chat``: its page."""
        self.channel = channel
        self.chat = chat
        self.service = service
        self.courses = courses
        self.catalogs = catalogs
        self.token = token
        self.keys = keys
        self.limits = limits
        self.cookies = cookies
        self.sentences = Sentences(catalogs, service.default_language)
        self.figures = TrainerFigures(service.store, courses, catalogs, self._signed_in)
        self.handoffs = HandoffPages(service.store, catalogs, self._signed_in)
        self.translations = TranslationPages(catalogs.locales, catalogs, courses, self._signed_in)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/trainer", self.index),
            web.post("/trainer/sign-in", self.sign_in),
            web.post("/trainer/sign-out", self.sign_out),
            web.get("/trainer/preview", self.start),
            web.get("/trainer/preview/{lesson}/{language}", self.chat_page),
            *self.figures.routes(),
            *self.handoffs.routes(),
            *self.translations.routes(),
            web.get("/preview", self.moved),
            web.get("/preview/start", self.moved),
        ]

    async def moved(self, _request: web.Request) -> web.Response:
        """The old token-in-URL addresses lead to the sign-in, and keep nothing of the query."""
        raise web.HTTPFound("/trainer")

    async def _signed_in(self, request: web.Request) -> bool:
        if not self.token:
            raise web.HTTPNotFound(text=OFF)
        session = await self.cookies.load_session(request)
        since = session.get("trainer_since")
        return isinstance(since, int | float) and time.time() - since < SESSION_HOURS * 3600

    async def index(self, request: web.Request) -> web.Response:
        """The sign-in form, or every lesson with a link per language."""
        if not await self._signed_in(request):
            return _page(SIGN_IN.format(head=HEAD, note=""))
        rows = []
        for module in self.courses.course.modules:
            rows.append(f"<tr><th colspan=2>{html.escape(module.title)}</th></tr>")
            for lesson in module.lessons:
                links = " ".join(self._link(lesson.id, code) for code in self.catalogs.languages)
                figures = f'<a href="/trainer/lessons/{quote(lesson.id)}">figures</a>'
                rows.append(
                    f"<tr><td>{html.escape(lesson.title)}</td><td>{links}</td>"
                    f"<td>{figures}</td></tr>"
                )
        return _page(LESSONS.format(head=HEAD, nav=NAV, rows="".join(rows)))

    def _link(self, lesson: str, code: str, current: bool = False) -> str:
        """A link to a preview in one language, its name in its own script and direction."""
        query = urlencode({"lesson": lesson, "lang": code})
        direction = "rtl" if self.catalogs.is_rtl(code) else "ltr"
        name = html.escape(self.catalogs.names().get(code, code))
        mark = ' aria-current="true"' if current else ""
        return (
            f'<a href="/trainer/preview?{html.escape(query)}" hreflang="{code}"{mark}>'
            f'<bdi lang="{code}" dir="{direction}">{name}</bdi></a>'
        )

    async def sign_in(self, request: web.Request) -> web.Response:
        """Check the token from the form; a right one opens a session cookie."""
        if not self.token:
            raise web.HTTPNotFound(text=OFF)
        same_origin(request)
        try:
            self.limits.check("sign-in", request)
            form = parse_form(await read_body(request, FIELD_LIMIT, 10.0), charset(request))
        except Refused as refused:
            return self.sentences.refused(request, refused)
        given = form.get("token", "").encode()
        if not secrets.compare_digest(given, self.token.encode()):
            log.info("trainer sign-in refused")
            note = "<p role=alert>This token is wrong. Please try again.</p>"
            return _page(SIGN_IN.format(head=HEAD, note=note), status=403)
        session = await self.cookies.new_session()
        session["trainer_since"] = time.time()
        log.info("trainer signed in")
        signed_in = web.HTTPSeeOther("/trainer")
        await self.cookies.save_session(request, signed_in, session)
        raise signed_in

    async def sign_out(self, request: web.Request) -> web.Response:
        same_origin(request)
        session = await self.cookies.load_session(request)
        session.invalidate()
        signed_out = web.HTTPSeeOther("/trainer")
        await self.cookies.save_session(request, signed_out, session)
        raise signed_out

    async def start(self, request: web.Request) -> web.Response:
        """Start the lesson in a new conversation and open the chat on it."""
        if not await self._signed_in(request):
            raise web.HTTPSeeOther("/trainer")
        lesson, language = request.query.get("lesson", ""), request.query.get("lang", "")
        credential = self.keys.issue()
        chat_id = self.keys.chat_id(credential)
        assert chat_id is not None
        try:
            found = await self.service.preview(self.channel, chat_id, language, lesson)
        except Unavailable:
            return self.sentences.unavailable(request)
        if not found:
            return self.sentences.respond(request, NOT_FOUND, 404)
        # The fragment never reaches a server or a log; the page keeps it for this tab only.
        raise web.HTTPSeeOther(f"/trainer/preview/{quote(lesson)}/{quote(language)}#c={credential}")

    async def chat_page(self, request: web.Request) -> web.Response:
        """The chat page under the preview's banner: back to the lessons, other languages."""
        if not await self._signed_in(request):
            raise web.HTTPSeeOther("/trainer")
        lesson = self.courses.course.lesson(request.match_info["lesson"])
        language = request.match_info["language"]
        if lesson is None or language not in self.catalogs.languages or self.chat is None:
            return self.sentences.respond(request, NOT_FOUND, 404)
        languages = " ".join(
            self._link(lesson.id, code, code == language) for code in self.catalogs.languages
        )
        banner = BANNER.format(title=html.escape(lesson.title), languages=languages)
        page = self.chat.render(language).replace("</head>", PREVIEW_CSS, 1)
        return _page(page.replace(CHAT_HEADER, banner + CHAT_HEADER, 1))


def same_origin(request: web.Request) -> None:
    """A form posted from another site is refused (the cookie is SameSite=Strict as well)."""
    # Browsers send Sec-Fetch-Site, which no page can forge; under Referrer-Policy no-referrer
    # their Origin is "null", so an Origin is only compared when there is one.
    site = request.headers.get("Sec-Fetch-Site", "same-origin")
    origin = request.headers.get("Origin", "null")
    if site not in ("same-origin", "none") or (
        origin != "null" and urlsplit(origin).netloc != request.host
    ):
        raise web.HTTPForbidden(text="This form must be sent from the coach's own page.")


def _page(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/html")
