"""Staff pages: sign in once, then open any lesson in any language in the web chat.

Staff sign in with a single-use link (``coach staff invite``: ``/trainer/sign-in/<token>``
shows a button, which signs in) or with the trainer token (``COACH_TRAINER_TOKEN``), which
signs in as an admin of its own. ``GET /trainer`` shows the sign-in, or every lesson with
a link per language, the links the person's role opens and who is signed in. Each page
checks the role (``bot/services/staff.py``): trainers open previews and course figures,
coordinators the hand-off figures too, admins everything; anyone else signed in gets 403.
The session is an encrypted, HttpOnly, SameSite=Strict cookie holding the person's id and
a session token whose hash the database keeps, so a removal ends it at once and a new
role holds from the next request. Sign-in attempts are limited per client.

A preview opens the chat page at ``/trainer/preview/<lesson>/<language>`` under a
"Preview" banner with a way back and to the other languages. Its conversation is marked
in the event log: never reminded, never counted in the figures (the course's figures and
the hand-offs', ``trainer_figures`` and ``trainer_handoffs``, reached from here).
"""

from __future__ import annotations

import html
import logging
import secrets
from urllib.parse import quote, urlencode, urlsplit

from aiohttp import web
from aiohttp_session import AbstractStorage, Session

from bot.core.channel import Capabilities
from bot.course.holder import CourseHolder
from bot.i18n import Catalogs
from bot.services.coach import CoachService, Unavailable
from bot.services.staff import ROLES, Signed, Staff, StaffPerson, holds
from bot.web.bodies import FIELD_LIMIT, Refused, charset, parse_form, read_body
from bot.web.client_limits import ClientLimits
from bot.web.errors import NOT_FOUND, Sentences
from bot.web.keys import ConversationKeys
from bot.web.page import ChatPage
from bot.web.trainer_figures import SignedIn, TrainerFigures
from bot.web.trainer_handoffs import HandoffPages
from bot.web.trainer_translations import TranslationPages

log = logging.getLogger(__name__)
SESSION_HOURS = 12
HEAD = """<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Coach — trainer</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/trainer.css">"""
SIGN_IN = """{head}<h1>Trainer sign-in</h1>{note}{form}
<p>Have a sign-in link from an admin? Open it in this browser: it works once.</p></html>"""
TOKEN_FORM = """
<form method="post" action="/trainer/sign-in"><label>Trainer token
<input name="token" type="password" autocomplete="current-password" required autofocus></label>
<button>Sign in</button></form>"""
NO_TOKEN = """<p>Sign in with the link an admin gave you. An admin makes one with
<code>coach staff invite NAME --role trainer</code> (or sets COACH_TRAINER_TOKEN).</p>"""
LINK_PAGE = """{head}<h1>Staff sign-in</h1>
<p>This link signs you in to the coach's staff pages in this browser. It works once.</p>
<form method="post"><button>Sign in</button></form></html>"""
LINK_BAD = """{head}<h1>Staff sign-in</h1>
<p role=alert>This link does not work: it was used already, it is too old, or it was
withdrawn. Ask an admin for a new one.</p><p><a href="/trainer">Trainer sign-in</a></p></html>"""
WHO = """<div class="signed-in"><p>Signed in as {name} ({role}).</p>
<form method="post" action="/trainer/sign-out"><button>Sign out</button></form></div>"""
REFUSED = """{head}<h1>Not for your role</h1>
<p>You are signed in as {name} ({role}). This page is for {who}.</p>
<p><a href="/trainer">← Back to the lessons</a></p></html>"""
FOR_ROLE = {"trainer": "all staff", "coordinator": "coordinators and admins", "admin": "admins"}
# Each link of the staff's menu and the role it needs.
LINKS = (
    ("/trainer", "Lessons and previews", "trainer"),
    ("/trainer/figures", "Course figures", "trainer"),
    ("/trainer/handoffs", "Hand-off figures", "coordinator"),
    ("/trainer/translations", "Translation work", "trainer"),
    ("/metrics", "Metrics", "admin"),
)
LESSONS = """{head}{nav}{who}<h1>Lesson preview</h1>
<p>Open a lesson as a learner sees it, in any language.
Each link starts a fresh conversation, kept apart from the learners': no reminders,
not counted in the figures.</p><table>{rows}</table></html>"""
BANNER = """<div class="preview-bar" role="region" aria-label="Preview" lang="en" dir="ltr">
<p><strong>Preview</strong> of “{title}”: not counted in the figures, no reminders.</p>
<a href="/trainer">← Back to the lessons</a>
<nav aria-label="Language">{languages}</nav></div>
"""
PREVIEW_CSS = '<link rel="stylesheet" href="/static/trainer-preview.css">\n</head>'
CHAT_HEADER = "<header><h1>Coach</h1></header>"
OFF = "Signing in with a token is off: set COACH_TRAINER_TOKEN to use it."
# The signed-in person, once looked up for a request.
STAFF: web.RequestKey[StaffPerson | None] = web.RequestKey("staff")


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
        staff: Staff | None = None,
    ) -> None:
        """``channel``: the web chat, where previews open; ``chat``: its page; ``token``:
        the trainer token, or None when only invited staff sign in."""
        self.staff = staff or Staff(service.store, service.clock, session_hours=SESSION_HOURS)
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
        self.figures = TrainerFigures(service.store, courses, catalogs, self.allows("trainer"))
        self.handoffs = HandoffPages(service.store, catalogs, self.allows("coordinator"))
        self.translations = TranslationPages(
            catalogs.locales, catalogs, courses, self.allows("trainer")
        )

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/trainer", self.index),
            web.post("/trainer/sign-in", self.sign_in),
            web.get("/trainer/sign-in/{token}", self.link_page),
            web.post("/trainer/sign-in/{token}", self.sign_in_by_link),
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

    async def who(self, request: web.Request) -> StaffPerson | None:
        """The person signed in, with their role as it is now; None when nobody is."""
        if STAFF not in request:
            session = await self.cookies.load_session(request)
            staff_id, token = session.get("staff"), session.get("token")
            found = None
            if isinstance(staff_id, int) and isinstance(token, str):
                found = await self.staff.person(staff_id, token)
            request[STAFF] = found
        return request[STAFF]

    def allows(self, role: str) -> SignedIn:
        """A check for the pages of a role: False for nobody signed in (they are sent to the
        sign-in), 403 for someone whose role does not open them."""
        assert role in ROLES

        async def allowed(request: web.Request) -> bool:
            person = await self.who(request)
            if person is None:
                return False
            if not holds(person.role, role):
                log.info("staff %d refused a %s page", person.id, role)
                text = REFUSED.format(
                    head=HEAD, name=html.escape(person.name), role=person.role, who=FOR_ROLE[role]
                )
                raise web.HTTPForbidden(text=text, content_type="text/html")
            return True

        return allowed

    async def is_admin(self, request: web.Request) -> bool:
        """Whether an admin is signed in (``/metrics`` in a browser)."""
        person = await self.who(request)
        return person is not None and holds(person.role, "admin")

    async def index(self, request: web.Request) -> web.Response:
        """The sign-in, or every lesson with a link per language."""
        person = await self.who(request)
        if person is None or not holds(person.role, "trainer"):
            form = TOKEN_FORM if self.token else NO_TOKEN
            return _page(SIGN_IN.format(head=HEAD, note="", form=form))
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
        who = WHO.format(name=html.escape(person.name), role=person.role)
        page = LESSONS.format(head=HEAD, nav=nav(person), who=who, rows="".join(rows))
        return _page(page, headers={"Cache-Control": "no-store"})

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
        """Check the trainer token from the form; a right one signs in as its admin."""
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
            page = SIGN_IN.format(head=HEAD, note=note, form=TOKEN_FORM)
            return _page(page, status=403)
        return await self._signed_in(request, await self.staff.with_shared_token())

    async def link_page(self, request: web.Request) -> web.Response:
        """A button, not the sign-in itself: link previews in chat apps open links too."""
        return _page(LINK_PAGE.format(head=HEAD), headers={"Cache-Control": "no-store"})

    async def sign_in_by_link(self, request: web.Request) -> web.Response:
        """Use a single-use sign-in link: a session for its person, or a page saying why not."""
        same_origin(request)
        try:
            self.limits.check("sign-in", request)
        except Refused as refused:
            return self.sentences.refused(request, refused)
        signed = await self.staff.redeem(request.match_info["token"][:100])
        if signed is None:
            return _page(LINK_BAD.format(head=HEAD), status=403)
        return await self._signed_in(request, signed)

    async def _signed_in(self, request: web.Request, signed: Signed) -> web.Response:
        session: Session = await self.cookies.new_session()
        session["staff"] = signed.staff_id
        session["token"] = signed.token
        signed_in = web.HTTPSeeOther("/trainer")
        await self.cookies.save_session(request, signed_in, session)
        raise signed_in

    async def sign_out(self, request: web.Request) -> web.Response:
        """End the session here and in the database."""
        same_origin(request)
        session = await self.cookies.load_session(request)
        token = session.get("token")
        if isinstance(token, str):
            await self.staff.sign_out(token)
        session.invalidate()
        signed_out = web.HTTPSeeOther("/trainer")
        await self.cookies.save_session(request, signed_out, session)
        raise signed_out

    async def start(self, request: web.Request) -> web.Response:
        """Start the lesson in a new conversation and open the chat on it."""
        if not await self.allows("trainer")(request):
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
        if not await self.allows("trainer")(request):
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


def nav(person: StaffPerson) -> str:
    """The staff's menu: only the pages the person's role opens."""
    links = [
        f'<a href="{href}">{name}</a>' for href, name, role in LINKS if holds(person.role, role)
    ]
    return f"<nav>{chr(10).join(links)}</nav>"


def _page(body: str, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/html", headers=headers)
