"""The volunteer desk in a browser: sign in with a single-use link, see the queue, take a
request, talk with the learner, close it; coordinators see every request.

Pages are rendered on the server in the volunteer's language; ``desk.js`` only sends the
conversation's messages and fetches new ones without a reload. The session is an encrypted,
HttpOnly, SameSite=Strict cookie holding a token whose hash the database keeps, so signing
out or an admin's revocation ends it at once. Forms carry a nonce: sent twice, they act once.
"""

from __future__ import annotations

import html
import logging
import secrets
from collections.abc import Mapping
from datetime import timedelta

from aiohttp import web
from aiohttp_session import AbstractStorage

from bot.core.handoff import TOPICS
from bot.core.numbers import ID_DIGITS, payload_number
from bot.core.text import Msg, Text
from bot.core.volunteering import OUTCOMES
from bot.i18n import Catalogs
from bot.services.desk_messages import MEDIA_KINDS
from bot.services.desk_sign_in import DeskSignIn, DeskVolunteer
from bot.services.web_desk import (
    Card,
    Conversation,
    MediaSource,
    OverviewLine,
    Said,
    WebDesk,
)
from bot.web.bodies import charset, parse_form, read_body
from bot.web.client_limits import ClientLimits
from bot.web.desk_texts import DESK_TEXTS, STATUSES
from bot.web.errors import language_hint
from bot.web.fonts import Fonts
from bot.web.preview import same_origin

log = logging.getLogger(__name__)
SESSION_DAYS = 30
MEDIA_LIMIT = 20 * 2**20  # Telegram's own limit for a bot's download
SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG", "image/png"),
    (b"RIFF", "image/webp"),
    (b"OggS", "audio/ogg"),
)
FORM_LIMIT = 32 * 1024
COOKIE = "coach_desk"


class DeskPages:
    def __init__(
        self,
        desk: WebDesk,
        sign_in: DeskSignIn,
        catalogs: Catalogs,
        default_language: str,
        cookies: AbstractStorage,
        limits: ClientLimits,
        fonts: Fonts,
        media_sources: Mapping[str, MediaSource] | None = None,
    ) -> None:
        """``media_sources``: per channel, how to fetch a learner's photo or voice note."""
        self.media_sources = dict(media_sources or {})
        self.desk = desk
        self.sign_in = sign_in
        self.catalogs = catalogs
        self.default_language = default_language
        self.cookies = cookies
        self.limits = limits
        self.fonts = fonts

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/desk", self.queue),
            web.get("/desk/sign-in/{token}", self.sign_in_page),
            web.post("/desk/sign-in/{token}", self.sign_in_now),
            web.post("/desk/sign-out", self.sign_out),
            web.get("/desk/all", self.overview),
            web.get("/desk/requests/{id}", self.conversation),
            web.post("/desk/requests/{id}/claim", self.claim),
            web.post("/desk/requests/{id}/messages", self.write),
            web.post("/desk/requests/{id}/close", self.close),
            web.get("/api/desk/requests/{id}/messages", self.messages),
            web.get("/desk/media/{id}", self.media),
        ]

    # --- signing in and out

    async def sign_in_page(self, request: web.Request) -> web.Response:
        """A button, not the sign-in itself: link previews in chat apps open links too."""
        words = self._words(self._browser_language(request))
        body = (
            f"<h1>{words('signInTitle')}</h1><p>{words('signInWhy')}</p>"
            f'<form method="post"><button>{words("signInButton")}</button></form>'
        )
        return self._page(words, body, headers={"Cache-Control": "no-store"})

    async def sign_in_now(self, request: web.Request) -> web.Response:
        same_origin(request)
        self.limits.check("sign-in", request)
        language = self._browser_language(request)
        token = request.match_info["token"][:100]
        session_token = await self.sign_in.redeem(token, language)
        if session_token is None:
            words = self._words(language)
            return self._page(words, f"<p role=alert>{words('signInBad')}</p>", status=403)
        session = await self.cookies.new_session()
        session["desk"] = session_token
        signed_in = web.HTTPSeeOther("/desk")
        await self.cookies.save_session(request, signed_in, session)
        raise signed_in

    async def sign_out(self, request: web.Request) -> web.Response:
        same_origin(request)
        session = await self.cookies.load_session(request)
        token = session.get("desk")
        if isinstance(token, str):
            await self.sign_in.sign_out(token)
        session.invalidate()
        signed_out = web.HTTPSeeOther("/desk")
        await self.cookies.save_session(request, signed_out, session)
        raise signed_out

    # --- pages

    async def queue(self, request: web.Request) -> web.Response:
        who = await self._who(request)
        if who is None:
            return self._signed_out(request)
        return await self._queue_page(who)

    async def _queue_page(
        self, who: DeskVolunteer, notice: Msg | None = None, status: int = 200
    ) -> web.Response:
        words = self._words(self._language(who))
        waiting, mine = await self.desk.queue(who)
        parts = [self._top(words, who), f"<h1>{words('title')}</h1>"]
        if notice is not None:
            parts.append(f"<p role=alert>{self._say(notice, who)}</p>")
        parts.append(f"<section><h2>{words('yours')}</h2>")
        parts.append(self._cards(words, who, mine) or f"<p>{words('noneYours')}</p>")
        parts.append(f"</section><section id=waiting><h2>{words('waiting')}</h2>")
        parts.append(self._cards(words, who, waiting) or f"<p>{words('noneWaiting')}</p>")
        parts.append("</section>")
        return self._page(words, "".join(parts), status=status, who=who, refresh=True)

    async def conversation(self, request: web.Request) -> web.Response:
        who = await self._who(request)
        if who is None:
            return self._signed_out(request)
        found = await self.desk.conversation(who, self._id(request))
        words = self._words(self._language(who))
        if found is None:
            body = f"{self._top(words, who)}<p role=alert>{words('notFound')}</p>"
            return self._page(words, body, status=404, who=who)
        return self._page(words, self._conversation(words, who, found), who=who)

    async def overview(self, request: web.Request) -> web.Response:
        who = await self._who(request)
        if who is None:
            return self._signed_out(request)
        words = self._words(self._language(who))
        if not who.coordinator:
            raise web.HTTPSeeOther("/desk")
        lines = await self.desk.overview(who)
        heads = ("#", "status", "topic", "language", "volunteer", "asked")
        cells = [f"<th>{h if h == '#' else words(h)}</th>" for h in heads]
        cells += [f"<th>{words(h)}</th>" for h in ("toClaim", "toClose", "ended", "rating")]
        rows = "".join(self._overview_row(words, who, line) for line in lines)
        body = (
            f"{self._top(words, who)}<h1>{words('all')}</h1><p>{words('allIntro')}</p>"
            f"<div class=scroll><table><tr>{''.join(cells)}</tr>{rows}</table></div>"
        )
        return self._page(words, body, who=who)

    # --- actions

    async def claim(self, request: web.Request) -> web.Response:
        who, form = await self._form(request)
        handoff_id = self._id(request)
        refused = await self.desk.claim(who, handoff_id, form.get("nonce", ""))
        if refused is not None:
            return await self._queue_page(who, refused, status=409)
        raise web.HTTPSeeOther(f"/desk/requests/{handoff_id}")

    async def write(self, request: web.Request) -> web.Response:
        who, form = await self._form(request)
        handoff_id = self._id(request)
        refused = await self.desk.write(
            who, handoff_id, form.get("text", ""), form.get("nonce", "")
        )
        if "application/json" in request.headers.get("Accept", ""):
            if refused is not None:
                return web.json_response({"error": self._say(refused, who)}, status=409)
            return web.json_response({"ok": True})
        if refused is not None:
            return await self._queue_page(who, refused, status=409)
        raise web.HTTPSeeOther(f"/desk/requests/{handoff_id}")

    async def close(self, request: web.Request) -> web.Response:
        who, form = await self._form(request)
        handoff_id = self._id(request)
        refused = await self.desk.close(
            who, handoff_id, form.get("outcome", ""), form.get("note", ""), form.get("nonce", "")
        )
        if refused is not None:
            return await self._queue_page(who, refused, status=409)
        raise web.HTTPSeeOther(f"/desk/requests/{handoff_id}")

    async def messages(self, request: web.Request) -> web.Response:
        """New messages of a conversation, for ``desk.js``: ``?after=`` the last id it has."""
        who = await self._who(request)
        if who is None:
            raise web.HTTPUnauthorized()
        after = payload_number(request.query.get("after", "0"), ID_DIGITS) or 0
        found = await self.desk.conversation(who, self._id(request), after)
        if found is None:
            raise web.HTTPNotFound()
        words = self._words(self._language(who))
        said = [{"id": m.id, "html": self._message(words, m)} for m in found.messages]
        return web.json_response(
            {"messages": said, "open": found.open}, headers={"Cache-Control": "no-store"}
        )

    async def media(self, request: web.Request) -> web.StreamResponse:
        """A learner's photo or voice note, fetched from their chat app as it is asked for:
        the coach keeps no copy."""
        who = await self._who(request)
        if who is None:
            raise web.HTTPUnauthorized()
        found = await self.desk.media(who, self._id(request))
        if found is None:
            raise web.HTTPNotFound()
        kind, channel, ref, data = found
        source = self.media_sources.get(channel)
        if data is None and source is not None:
            try:
                data = await source(ref, MEDIA_LIMIT)
            except Exception as error:  # the chat app could not give it: say so, keep serving
                log.warning(
                    "desk media %d not fetched: %s", self._id(request), type(error).__name__
                )
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=data,
            content_type=content_type(kind, data),
            headers={"Cache-Control": "private, max-age=3600"},
        )

    # --- the pieces

    async def _who(self, request: web.Request) -> DeskVolunteer | None:
        session = await self.cookies.load_session(request)
        token = session.get("desk")
        return await self.sign_in.volunteer(token) if isinstance(token, str) else None

    async def _form(self, request: web.Request) -> tuple[DeskVolunteer, dict[str, str]]:
        same_origin(request)
        who = await self._who(request)
        if who is None:
            raise web.HTTPSeeOther("/desk")
        form = parse_form(await read_body(request, FORM_LIMIT, 10.0), charset(request))
        return who, form

    @staticmethod
    def _id(request: web.Request) -> int:
        number = payload_number(request.match_info["id"], ID_DIGITS)
        if number is None:
            raise web.HTTPNotFound()
        return number

    def _language(self, who: DeskVolunteer) -> str:
        """The volunteer's language, by the same rule as everything else the coach tells them."""
        return self.catalogs.first_offered((who.language, *who.languages), self.default_language)

    def _browser_language(self, request: web.Request) -> str:
        return self.catalogs.best_match(language_hint(request), self.default_language)

    def _words(self, code: str) -> Words:
        return Words(self.catalogs, code)

    def _say(self, text: Text, who: DeskVolunteer) -> str:
        return html.escape(self.catalogs.render(text, self._language(who)))

    def _signed_out(self, request: web.Request) -> web.Response:
        words = self._words(self._browser_language(request))
        return self._page(words, f"<h1>{words('title')}</h1><p>{words('signedOut')}</p>")

    def _top(self, words: Words, who: DeskVolunteer) -> str:
        links = [f'<a href="/desk">{words("title")}</a>']
        if who.coordinator:
            links.append(f'<a href="/desk/all">{words("all")}</a>')
        return (
            f"<nav>{' '.join(links)}<span class=who>{html.escape(who.name)}</span>"
            f'<form method="post" action="/desk/sign-out"><button>{words("signOut")}</button>'
            "</form></nav>"
        )

    def _cards(self, words: Words, who: DeskVolunteer, cards: list[Card]) -> str:
        return "".join(self._card(words, who, card) for card in cards)

    def _card(self, words: Words, who: DeskVolunteer, card: Card) -> str:
        lines = "".join(f"<li>{self._say(part, who)}</li>" for part in card.details)
        since = f"{card.waiting_since:%Y-%m-%d %H:%M} UTC"
        head = f"<h3>#{card.id}</h3><ul>{lines}<li>{words('since')}: {since}</li></ul>"
        if card.mine:
            action = f'<a class=button href="/desk/requests/{card.id}">{words("open")}</a>'
        else:
            action = (
                f'<form method="post" action="/desk/requests/{card.id}/claim">{_nonce()}'
                f"<button>{words('take')}</button></form>"
            )
        return f'<article class=card id="request-{card.id}">{head}{action}</article>'

    def _conversation(self, words: Words, who: DeskVolunteer, found: Conversation) -> str:
        card = found.card
        lines = "".join(f"<li>{self._say(part, who)}</li>" for part in card.details)
        said = "".join(self._message(words, m) for m in found.messages)
        last = found.messages[-1].id if found.messages else 0
        parts = [
            self._top(words, who),
            f'<p><a href="/desk">{words("back")}</a></p>',
            f"<h1>#{card.id}</h1><ul class=details>{lines}</ul>",
            f'<ol id=messages data-request="{card.id}" data-after="{last}" '
            f'data-not-sent="{words("notSent")}" aria-live=polite>{said}</ol>',
        ]
        if not found.open:
            parts.append(f"<p role=status>{words('closed')}</p>")
            return "".join(parts)
        outcomes = "".join(
            f'<option value="{code}">{self._say(label, who)}</option>'
            for code, label in OUTCOMES.items()
        )
        parts += [
            f'<form id=write method="post" action="/desk/requests/{card.id}/messages">'
            f"{_nonce()}<label>{words('write')}"
            "<textarea name=text rows=3 maxlength=2000 required></textarea></label>"
            f"<button>{words('send')}</button></form>",
            f"<p class=hint>{words('newMessages')}</p>",
            f"<details><summary>{words('close')}</summary>"
            f'<form method="post" action="/desk/requests/{card.id}/close">{_nonce()}'
            f"<label>{words('outcome')}<select name=outcome required>{outcomes}</select></label>"
            f"<label>{words('note')}<textarea name=note rows=2 maxlength=2000></textarea></label>"
            f"<button>{words('closeButton')}</button></form></details>",
        ]
        return "".join(parts)

    def _message(self, words: Words, said: Said) -> str:
        who = {"learner": "learner", "volunteer": "you", "coach": "coach"}.get(said.author, "coach")
        if said.text is not None:
            text = html.escape(said.text)
        elif said.fetchable and said.media_kind == "photo":
            text = f'<img src="/desk/media/{said.id}" alt="{words("photo")}" loading=lazy>'
        elif said.fetchable:
            text = f'<audio controls preload=none src="/desk/media/{said.id}"></audio>'
        elif said.media_kind == "copy":
            text = words("copy")
        else:
            kind = MEDIA_KINDS.get(said.media_kind or "", MEDIA_KINDS["other"])
            text = words("sentMedia", kind=kind)
        at = f"{said.at:%H:%M}"
        return (
            f'<li class="{who}" data-id="{said.id}"><b>{words(who)}</b> '
            f"<time>{at}</time><p>{text}</p></li>"
        )

    def _overview_row(self, words: Words, who: DeskVolunteer, line: OverviewLine) -> str:
        status = STATUSES.get(line.status)
        outcome = OUTCOMES.get(line.outcome or "")
        language = self.catalogs.languages.get(line.language)
        cells = [
            str(line.id),
            self._say(status, who) if status else html.escape(line.status),
            self._say(TOPICS.get(line.topic, TOPICS["other"]), who),
            f"<bdi>{html.escape(language.name if language else line.language)}</bdi>",
            html.escape(line.volunteer or "-"),
            f"{line.asked:%Y-%m-%d %H:%M}",
            _minutes(line.to_claim),
            _minutes(line.to_close),
            self._say(outcome, who) if outcome else "-",
            "⭐" * line.rating if line.rating else "-",
        ]
        return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"

    def _page(
        self,
        words: Words,
        body: str,
        status: int = 200,
        who: DeskVolunteer | None = None,
        refresh: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        code = words.code
        fonts = self.fonts.stylesheet_url(code)
        font_link = f'<link rel="stylesheet" href="{html.escape(fonts)}">' if fonts else ""
        direction = "rtl" if self.catalogs.is_rtl(code) else "ltr"
        page = (
            f'<!doctype html><html lang="{code.replace("_", "-")}" dir="{direction}">'
            '<meta charset="utf-8"><meta name="viewport" content="width=device-width, '
            'initial-scale=1"><link rel="icon" href="data:,">'
            f"<title>{words('title')} — Coach</title>{font_link}"
            '<link rel="stylesheet" href="/static/desk.css">'
            '<script src="/static/desk.js" defer></script>'
            f"<body{' data-refresh=30' if refresh else ''}><main>{body}</main></body></html>"
        )
        return web.Response(
            text=page,
            status=status,
            content_type="text/html",
            headers={"Cache-Control": "no-store", **(headers or {})},
        )


class Words:
    """The desk's words in one language, escaped for HTML."""

    def __init__(self, catalogs: Catalogs, code: str) -> None:
        self.catalogs = catalogs
        self.code = code

    def __call__(self, key: str, **values: Text) -> str:
        msg = Msg(DESK_TEXTS[key].msgid, values) if values else DESK_TEXTS[key]
        return html.escape(self.catalogs.render(msg, self.code))


def content_type(kind: str, data: bytes) -> str:
    """What the file is, from its first bytes; a photo or voice note the browser can show."""
    for signature, found in SIGNATURES:
        if data.startswith(signature):
            return found
    return "image/jpeg" if kind == "photo" else "audio/mpeg"


def _nonce() -> str:
    return f'<input type=hidden name=nonce value="{secrets.token_urlsafe(16)}">'


def _minutes(span: timedelta | None) -> str:
    return "-" if span is None else f"{span.total_seconds() / 60:.0f} min"
