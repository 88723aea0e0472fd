"""The web chat channel: a small JSON API that turns browser requests into learner events."""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any

from aiohttp import BodyPartReader, web

from bot.core.events import Inbound, InboundKind, Sender
from bot.core.text import N_, Msg
from bot.i18n import Catalogs
from bot.rendering import ChannelInfo
from bot.service import CoachService, Unavailable
from bot.store.outbox import OutboundMessage
from bot.web.uploads import UploadRefused, check_file, parse_coordinate, read_limited

log = logging.getLogger(__name__)
CHANNEL = ChannelInfo("web", pull=True)
CONVERSATION = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
CLIENT_KEY = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
COMMAND = re.compile(r"^/([A-Za-z_]{1,32})(?:@\S+)?(?:\s+(.*))?$", re.S)
FILE_KINDS = {
    "photo": InboundKind.PHOTO,
    "voice": InboundKind.VOICE,
    "document": InboundKind.DOCUMENT,
}
UNREADABLE = N_("I could not read this message. Please try again.")


def text_event(sender: Sender, key: str, text: str, at: Any) -> Inbound:
    """A typed message; ``/word`` is a command."""
    command = COMMAND.match(text.strip())
    if command:
        name, argument = command.group(1).lower(), command.group(2)
        return Inbound(
            sender, InboundKind.COMMAND, at, key, text=text, command=name, argument=argument
        )
    return Inbound(sender, InboundKind.TEXT, at, key, text=text)


class WebChat:
    def __init__(self, service: CoachService, catalogs: Catalogs, max_upload_bytes: int) -> None:
        self.service = service
        self.catalogs = catalogs
        self.max_upload_bytes = max_upload_bytes

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/webchat/{conversation}", self.post),
            web.get("/api/webchat/{conversation}", self.get),
        ]

    async def post(self, request: web.Request) -> web.Response:
        """One learner action in, the coach's replies to it out."""
        sender = self._sender(request)
        try:
            event = await self._event(request, sender)
            messages = await self.service.handle(event, CHANNEL)
        except UploadRefused as refused:
            return await self._refuse(sender, refused.reason, refused.status)
        except web.HTTPRequestEntityTooLarge:
            limit = self.max_upload_bytes // 2**20
            too_big = N_("This file is too big. Please send a file under {limit} MB.", limit=limit)
            return await self._refuse(sender, too_big, 413)
        except Unavailable:
            return await self._unavailable(sender)
        return web.json_response({"messages": [self._json(m) for m in messages]})

    async def get(self, request: web.Request) -> web.Response:
        """Everything sent to this conversation after the message id ``after``."""
        sender = self._sender(request)
        raw = request.query.get("after", "0")
        if not raw.isdigit():
            return await self._refuse(sender, UNREADABLE, 400)
        try:
            messages = await self.service.messages_after(CHANNEL.name, sender.chat_id, int(raw))
        except Unavailable:
            return await self._unavailable(sender)
        return web.json_response({"messages": [self._json(m) for m in messages]})

    def _sender(self, request: web.Request) -> Sender:
        conversation = request.match_info["conversation"]
        if not CONVERSATION.match(conversation):
            raise web.HTTPBadRequest(
                text=json.dumps({"error": "conversation id: 8 to 64 letters, digits, - or _"}),
                content_type="application/json",
            )
        languages = request.headers.get("Accept-Language", "")
        hint = languages.split(",")[0].split(";")[0].strip() or None
        return Sender(CHANNEL.name, conversation, conversation, language_hint=hint)

    async def _event(self, request: web.Request, sender: Sender) -> Inbound:
        if request.content_type.startswith("multipart/"):
            return await self._upload_event(request, sender)
        if request.content_type == "application/x-www-form-urlencoded":
            form = await request.post()
            fields = {name: value for name, value in form.items() if isinstance(value, str)}
            return self._form_event(sender, fields, b"", 0, has_file=False)
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError) as error:
            raise UploadRefused(UNREADABLE, 400) from error
        if not isinstance(body, dict):
            raise UploadRefused(UNREADABLE, 400)
        key = self._key(sender, body.get("key"))
        now = self.service.clock()
        if isinstance(body.get("button"), str):
            return Inbound(sender, InboundKind.BUTTON, now, key, payload=body["button"])
        text = body.get("text")
        if not isinstance(text, str):
            raise UploadRefused(UNREADABLE, 400)
        forward_of, reply_to = body.get("forward_of"), body.get("reply_to")
        if forward_of is not None:
            return Inbound(sender, InboundKind.TEXT, now, key, text=text, forwarded=True)
        event = text_event(sender, key, text, now)
        if isinstance(reply_to, int) and not isinstance(reply_to, bool):
            tag = await self.service.tag_of(CHANNEL.name, sender.chat_id, reply_to)
            return Inbound(
                sender,
                event.kind,
                now,
                key,
                text=text,
                command=event.command,
                argument=event.argument,
                reply_to_tag=tag,
            )
        return event

    async def _upload_event(self, request: web.Request, sender: Sender) -> Inbound:
        """A photo, voice note, document, place or contact; files are checked, never kept."""
        fields: dict[str, str] = {}
        head, size, has_file = b"", 0, False
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise UploadRefused(UNREADABLE, 400)
            if part.filename is not None:
                head, size = await read_limited(part, self.max_upload_bytes)
                has_file = True
            elif part.name:
                fields[part.name] = (await part.read_chunk(1024)).decode("utf-8", "replace")
        return self._form_event(sender, fields, head, size, has_file)

    def _form_event(
        self, sender: Sender, fields: dict[str, str], head: bytes, size: int, has_file: bool
    ) -> Inbound:
        kind_name = fields.get("kind", "")
        key = self._key(sender, fields.get("key"))
        now = self.service.clock()
        if kind_name in FILE_KINDS:
            kind = FILE_KINDS[kind_name]
            if not has_file:
                raise UploadRefused(UNREADABLE, 400)
            check_file(kind, head, size)
            log.info("web upload: %s of %d bytes", kind_name, size)
            return Inbound(sender, kind, now, key)
        if kind_name == "location":
            parse_coordinate(fields.get("latitude"), 90)
            parse_coordinate(fields.get("longitude"), 180)
            return Inbound(sender, InboundKind.LOCATION, now, key)
        if kind_name == "contact":
            if not (fields.get("name", "").strip() or fields.get("phone", "").strip()):
                raise UploadRefused(N_("Please give a name or a phone number."))
            return Inbound(sender, InboundKind.CONTACT, now, key)
        raise UploadRefused(UNREADABLE, 400)

    @staticmethod
    def _key(sender: Sender, client_key: object) -> str:
        """The idempotency key: the page's own key, so a retried request is recognised."""
        if isinstance(client_key, str) and CLIENT_KEY.match(client_key):
            return f"web:{sender.chat_id}:{client_key}"
        return f"web:{sender.chat_id}:{uuid.uuid4().hex}"

    async def _refuse(self, sender: Sender, reason: Msg, status: int) -> web.Response:
        language = await self.service.language_for(sender)
        text = self.catalogs.render(reason, language)
        return web.json_response({"error": text}, status=status)

    async def _unavailable(self, sender: Sender) -> web.Response:
        language = self.catalogs.best_match(sender.language_hint, self.service.default_language)
        sorry = N_("Sorry, something went wrong on our side. Please try again in a minute.")
        return web.json_response({"error": self.catalogs.render(sorry, language)}, status=503)

    def _json(self, message: OutboundMessage) -> dict[str, Any]:
        media = None
        if message.media is not None:
            media = {"kind": message.media["kind"], "url": f"/curriculum/{message.media['path']}"}
        return {
            "id": message.id,
            "text": message.text,
            "buttons": [{"label": b.label, "payload": b.payload} for b in message.buttons],
            "media": media,
            "lang": message.language,
            "direction": "rtl" if self.catalogs.is_rtl(message.language) else "ltr",
        }
