"""The web chat channel: a small JSON API that turns browser requests into learner events.

``POST /api/webchat`` starts a conversation and answers its credential; every later call
names the conversation by that credential: ``POST`` or ``GET /api/webchat/{credential}``.
New messages are pushed on ``GET /api/webchat/{credential}/stream`` (server-sent events,
``bot/web/stream.py``); the ``GET`` above is the fallback for pages that cannot keep one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import uuid
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from sqlalchemy.exc import SQLAlchemyError

from bot.channels.base import ChannelParts, Wiring
from bot.core.channel import Buttons, Capabilities
from bot.core.commands import typed_event
from bot.core.events import Inbound, InboundKind, Sender
from bot.core.lesson import asked_gesture
from bot.core.privacy import MY_DATA
from bot.core.text import N_
from bot.i18n import Catalogs
from bot.services.coach import CoachService, Unavailable
from bot.services.my_data_export import conversation_export
from bot.store.outbox import OutboundMessage
from bot.web.bodies import (
    JSON_LIMIT,
    UNREADABLE,
    Refused,
    charset,
    clean,
    parse_form,
    parse_json,
    read_body,
    read_field,
    small_int,
    within,
)
from bot.web.client_limits import ClientLimits
from bot.web.errors import Sentences, language_hint
from bot.web.keys import ConversationKeys
from bot.web.stream import (
    HEARTBEAT,
    STOPPING,
    Stopping,
    Stream,
    Streams,
    StreamSettings,
    event_bytes,
    opening_bytes,
)
from bot.web.uploads import UploadRefused, check_file, parse_coordinate, read_limited

log = logging.getLogger(__name__)
CHANNEL = Capabilities(
    "web",
    Buttons.INLINE,
    max_label=200,
    sends=frozenset({"image", "audio"}),
    pull=True,
    # A step costs the learner's tap going up and the reply coming down, each with its HTTP
    # headers: about 1.5 kB (bench/web_data.py: 9.3 kB for the first six-step lesson, taken
    # without its picture).
    message_bytes=1500,
    media_overhead=400,  # each file's own request and response headers, about
    webp=True,  # a lesson picture's WebP, made for phones
)
CLIENT_KEY = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
STREAM_KEY = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
AFTER = re.compile(r"^[0-9]{1,18}$")
FILE_KINDS = {
    "photo": InboundKind.PHOTO,
    "voice": InboundKind.VOICE,
    "document": InboundKind.DOCUMENT,
}
NO_CONVERSATION = N_("This conversation was not found. Please open the chat again to start anew.")
MAX_PARTS = 20
MY_DATA_FILE = "mydata.json"
WRITE_SECONDS = 30.0


def check_action(body: dict[str, Any]) -> None:
    """Each known field of a JSON action is absent, null or of its type; else it is refused."""
    for name in ("text", "button", "key"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise Refused(UNREADABLE)
    if body.get("key") is not None and not CLIENT_KEY.match(body["key"]):
        raise Refused(UNREADABLE)
    if body.get("reply_to") is not None and small_int(body["reply_to"]) is None:
        raise Refused(UNREADABLE)


class WebChat:
    def __init__(
        self,
        service: CoachService,
        catalogs: Catalogs,
        keys: ConversationKeys,
        limits: ClientLimits,
        max_upload_bytes: int,
        idle_seconds: float = 30.0,
        streams: Streams | None = None,
    ) -> None:
        self.service = service
        self.catalogs = catalogs
        self.keys = keys
        self.limits = limits
        self.max_upload_bytes = max_upload_bytes
        self.idle = idle_seconds
        self.sentences = Sentences(catalogs, service.default_language)
        self.streams = streams or Streams(service.store, CHANNEL.name, StreamSettings())
        self._stopping = Stopping()  # for an app that does not say when it stops

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/webchat", self.start),
            web.post("/api/webchat/{conversation}", self.post),
            web.get("/api/webchat/{conversation}", self.get),
            web.get("/api/webchat/{conversation}/stream", self.stream),
            web.get("/api/webchat/{conversation}/" + MY_DATA_FILE, self.my_data),
        ]

    def sender(self, chat_id: str, request: web.BaseRequest | None = None) -> Sender:
        hint = language_hint(request) if request is not None else None
        return Sender(CHANNEL.name, chat_id, chat_id, language_hint=hint)

    async def start(self, request: web.Request) -> web.Response:
        """A new conversation: its credential, and the replies to its first message if any."""
        try:
            self.limits.check("chat", request)
            self.limits.check("start", request)
        except Refused as refused:
            return self.sentences.refused(request, refused)
        credential = self.keys.issue()
        chat_id = self.keys.chat_id(credential)
        assert chat_id is not None
        log.info("web conversation %s started", self.keys.log_hash(chat_id))
        return await self._answer(request, self.sender(chat_id, request), credential)

    async def post(self, request: web.Request) -> web.Response:
        """One learner action in, the coach's replies to it out."""
        sender = self._known(request)
        if isinstance(sender, web.Response):
            return sender
        key = request.query.get("stream")
        if key is not None and not STREAM_KEY.match(key):
            return await self._refuse(request, sender, Refused(UNREADABLE))
        with self.streams.answering(sender.chat_id, key) as answered:
            return await self._answer(request, sender, None, answered)

    async def stream(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: what came after ``after`` (or ``Last-Event-ID``), then each new
        message as it is written, and a heartbeat comment while nothing happens."""
        sender = self._known(request)
        if isinstance(sender, web.Response):
            return sender
        if "text/event-stream" not in request.headers.get("Accept", ""):
            # Only a client that asks for a stream gets one (EventSource does): a stray
            # request does not hold a connection open.
            return await self._refuse(request, sender, Refused(UNREADABLE, 406))
        after = self._after(request)
        key = request.query.get("key")
        if after is None or (key is not None and not STREAM_KEY.match(key)):
            return await self._refuse(request, sender, Refused(UNREADABLE))
        stopping = request.app.get(STOPPING, self._stopping)
        stopping.watch(self.streams)
        try:
            with self.streams.open(sender.chat_id, request.remote or "", key, after) as stream:
                return await self._push(request, stream)
        except Refused as refused:
            return await self._refuse(request, sender, refused)
        except Unavailable:
            return self.sentences.unavailable(request)

    async def my_data(self, request: web.Request) -> web.Response:
        """Everything kept about this conversation, as a JSON file for its holder only."""
        sender = self._known(request)
        if isinstance(sender, web.Response):
            return sender
        try:
            async with self.service.store.unit_of_work() as uow:
                export = await conversation_export(
                    uow, CHANNEL.name, sender.chat_id, self.service.clock()
                )
        except (SQLAlchemyError, OSError):
            return self.sentences.unavailable(request)
        log.info("web conversation %s: its data downloaded", self.keys.log_hash(sender.chat_id))
        body = json.dumps(export, ensure_ascii=False, indent=2, default=str)
        return web.Response(
            text=body,
            content_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="{MY_DATA_FILE}"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    def _after(self, request: web.Request) -> int | None:
        values = [request.query.get("after", "0"), request.headers.get("Last-Event-ID", "0")]
        if not all(AFTER.match(value) for value in values):
            return None
        return max(int(value) for value in values)

    async def _push(self, request: web.Request, stream: Stream) -> web.StreamResponse:
        settings = self.streams.settings
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",  # nginx: pass each event on at once
            }
        )
        await response.prepare(request)
        try:
            await _write(response, opening_bytes(settings))
            beats = 0
            while not stream.ended and beats < settings.lifetime_beats:
                stream.news.clear()
                if not stream.held:
                    await self._send_news(response, stream, request.match_info["conversation"])
                try:
                    async with asyncio.timeout(settings.heartbeat_seconds):
                        await stream.news.wait()
                except TimeoutError:
                    beats += 1
                    await _write(response, HEARTBEAT)
        except (ConnectionError, TimeoutError, Unavailable):
            # The page went away or stopped reading, or the database did: it reconnects later.
            return response
        with contextlib.suppress(ConnectionError):
            await response.write_eof()
        return response

    async def _send_news(
        self, response: web.StreamResponse, stream: Stream, credential: str
    ) -> None:
        while True:
            messages = await self.service.messages_after(CHANNEL.name, stream.chat_id, stream.after)
            if not messages:
                return
            stream.after = max(stream.after, messages[-1].id)
            body = json.dumps(
                {"messages": [self._json(m, credential) for m in messages]},
                ensure_ascii=False,
                separators=(",", ":"),
            )
            await _write(response, event_bytes(stream.after, body))

    async def get(self, request: web.Request) -> web.Response:
        """Everything sent to this conversation after the message id ``after``."""
        sender = self._known(request)
        if isinstance(sender, web.Response):
            return sender
        raw = request.query.get("after", "0")
        if not AFTER.match(raw):
            return await self._refuse(request, sender, Refused(UNREADABLE))
        try:
            messages = await self.service.messages_after(CHANNEL.name, sender.chat_id, int(raw))
        except Unavailable:
            return self.sentences.unavailable(request)
        credential = request.match_info["conversation"]
        return web.json_response({"messages": [self._json(m, credential) for m in messages]})

    def _known(self, request: web.Request) -> Sender | web.Response:
        """The sender behind a credential this server issued; anything else is not found."""
        try:
            self.limits.check("chat", request)
        except Refused as refused:
            return self.sentences.refused(request, refused)
        chat_id = self.keys.chat_id(request.match_info["conversation"])
        if chat_id is None:
            return self.sentences.respond(request, NO_CONVERSATION, 404)
        return self.sender(chat_id, request)

    async def _answer(
        self,
        request: web.Request,
        sender: Sender,
        credential: str | None,
        answered: list[int] | None = None,
    ) -> web.Response:
        try:
            event = await self._event(request, sender, optional=credential is not None)
            messages = await self.service.handle(event, CHANNEL) if event else []
            if answered is not None:
                answered.extend(m.id for m in messages)
        except Refused as refused:
            return await self._refuse(request, sender, refused)
        except Unavailable:
            return self.sentences.unavailable(request)
        holder = credential or request.match_info["conversation"]
        body: dict[str, Any] = {"messages": [self._json(m, holder) for m in messages]}
        if credential is not None:
            body = {"conversation": credential, **body}
        return web.json_response(body)

    async def _event(self, request: web.Request, sender: Sender, optional: bool) -> Inbound | None:
        if request.content_type.startswith("multipart/"):
            return await self._upload_event(request, sender)
        encoding = charset(request)
        raw = await read_body(request, JSON_LIMIT, self.idle)
        if request.content_type == "application/x-www-form-urlencoded":
            return self._form_event(sender, parse_form(raw, encoding), b"", has_file=False)
        body = parse_json(raw, encoding)
        if optional and (body is None or (body.get("text") is None and body.get("button") is None)):
            check_action(body or {})
            return None
        if body is None:
            raise Refused(UNREADABLE)
        return await self._json_event(sender, body)

    async def _json_event(self, sender: Sender, body: dict[str, Any]) -> Inbound:
        check_action(body)
        key = self._key(sender, body.get("key"))
        now = self.service.clock()
        if body.get("button") is not None:
            return Inbound(sender, InboundKind.BUTTON, now, key, payload=clean(body["button"]))
        if body.get("text") is None:
            raise Refused(UNREADABLE)
        text = clean(body["text"])
        if body.get("forward_of") is not None:
            return Inbound(sender, InboundKind.TEXT, now, key, text=text, forwarded=True)
        reply_to = body.get("reply_to")
        event = typed_event(
            sender,
            key,
            text,
            now,
            reply_to_message_id=None if reply_to is None else str(reply_to),
        )
        assert event is not None  # the web chat has no other bots to address
        return event

    async def _upload_event(self, request: web.Request, sender: Sender) -> Inbound:
        """A photo, voice note, document, place or contact; files are checked, and a photo or
        voice note is kept only if it goes to a volunteer (with their conversation)."""
        if request.content_length and request.content_length > self.max_upload_bytes + 2**20:
            limit = self.max_upload_bytes // 2**20
            too_big = N_("This file is too big. Please send a file under {limit} MB.", limit=limit)
            raise UploadRefused(too_big, 413)
        fields: dict[str, str] = {}
        data, has_file = b"", False
        try:
            reader = await request.multipart()
            for _ in range(MAX_PARTS):
                part = await within(self.idle, reader.next())
                if part is None:
                    break
                if not isinstance(part, BodyPartReader) or (has_file and part.filename):
                    raise Refused(UNREADABLE)
                if part.filename is not None:
                    data = await read_limited(part, self.max_upload_bytes, self.idle)
                    has_file = True
                elif part.name:
                    fields[part.name] = await read_field(part, self.idle)
            else:
                raise Refused(UNREADABLE)
        except (ValueError, AssertionError, LookupError, HttpProcessingError) as error:
            # A broken multipart body: a wrong boundary, bad headers, an unknown encoding.
            raise Refused(UNREADABLE) from error
        return self._form_event(sender, fields, data, has_file)

    def _form_event(
        self, sender: Sender, fields: dict[str, str], data: bytes, has_file: bool
    ) -> Inbound:
        kind_name = fields.get("kind", "")
        key = self._key(sender, fields.get("key"))
        now = self.service.clock()
        if kind_name in FILE_KINDS:
            kind = FILE_KINDS[kind_name]
            if not has_file:
                raise Refused(UNREADABLE)
            check_file(kind, data[:32], len(data))
            log.info("web upload: %s of %d bytes", kind_name, len(data))
            shown = kind in (InboundKind.PHOTO, InboundKind.VOICE)
            return Inbound(sender, kind, now, key, attachment=data if shown else None)
        if kind_name == "location":
            parse_coordinate(fields.get("latitude"), 90)
            parse_coordinate(fields.get("longitude"), 180)
            return Inbound(sender, InboundKind.LOCATION, now, key)
        if kind_name == "contact":
            if not (fields.get("name", "").strip() or fields.get("phone", "").strip()):
                raise UploadRefused(N_("Please give a name or a phone number."))
            return Inbound(sender, InboundKind.CONTACT, now, key)
        raise Refused(UNREADABLE)

    @staticmethod
    def _key(sender: Sender, client_key: object) -> str:
        """The idempotency key: the page's own key, so a retried request is recognised."""
        if isinstance(client_key, str) and CLIENT_KEY.match(client_key):
            return f"web:{sender.chat_id}:{client_key}"
        return f"web:{sender.chat_id}:{uuid.uuid4().hex}"

    async def _refuse(self, request: web.Request, sender: Sender, refused: Refused) -> web.Response:
        try:
            language = await self.service.language_for(sender)
        except Unavailable:
            language = None
        return self.sentences.respond(
            request,
            refused.reason,
            refused.status,
            retry_after=refused.retry_after,
            language=language,
        )

    def _json(self, message: OutboundMessage, credential: str) -> dict[str, Any]:
        media = None
        if message.tag == MY_DATA:
            # The download of everything kept, for this credential's holder only.
            media = {"kind": "document", "url": f"/api/webchat/{credential}/{MY_DATA_FILE}"}
        if message.media is not None:
            media = {"kind": message.media["kind"], "url": f"/curriculum/{message.media['path']}"}
            if isinstance(message.media.get("alt"), str):
                media["alt"] = message.media["alt"]  # the picture's description, for alt text
            if isinstance(message.media.get("source"), str):
                # A phone that shows no WebP (iOS before 14) takes the trainers' own file.
                media["fallback"] = f"/curriculum/{message.media['source']}"
        return {
            "id": message.id,
            "text": message.text,
            "buttons": [{"label": b.label, "payload": b.payload} for b in message.buttons],
            "media": media,
            "lang": message.language.replace("_", "-"),  # a BCP 47 tag: fa-AF
            "direction": "rtl" if self.catalogs.is_rtl(message.language) else "ltr",
            "asks": asked_gesture(self.service.courses.course, message.tag),
        }


async def _write(response: web.StreamResponse, data: bytes) -> None:
    """Write within a bound: a page that stops reading does not hold its stream for ever."""
    async with asyncio.timeout(WRITE_SECONDS):
        await response.write(data)


def web_chat(wiring: Wiring) -> ChannelParts:
    """The web chat is always on: it is the coach a browser opens."""
    settings = wiring.settings
    chat = WebChat(
        wiring.service,
        wiring.catalogs,
        wiring.plumbing.keys,
        wiring.plumbing.limits,
        settings.max_upload_mb * 2**20,
        settings.web_body_idle_seconds,
        Streams(wiring.store, CHANNEL.name, StreamSettings()),
    )
    return ChannelParts(CHANNEL, routes=chat.routes())
