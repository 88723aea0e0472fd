"""A fake WhatsApp Cloud API (Meta's Graph API) on loopback, speaking its real HTTP shapes.

It takes ``POST /{version}/{phone_number_id}/messages`` and ``.../media`` as Meta does,
checks the limits Meta checks (3 reply buttons of 20 characters, 10 list rows of 24 with
descriptions of 72, interactive bodies of 1024), records what was sent, answers with Meta's
errors when a test asks for them, and calls the coach's webhook with signed bodies.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import ClientSession, web

from tests.fakes.whatsapp_webhooks import JSON, envelope, sign, wamid

TOKEN = "EAAG-fake-access-token"
PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "fake-app-secret-0123456789abcdef"
VERSION = "v26.0"
LIMITS = {"button": 20, "row": 24, "description": 72, "body": 1024, "text": 4096}


@dataclass
class WaSent:
    """One message the coach sent, as the learner sees it."""

    id: str
    to: str
    type: str
    body: str | None = None
    choices: list[tuple[str, str]] = field(default_factory=list)  # (id, title)
    descriptions: list[str | None] = field(default_factory=list)
    listed: bool = False
    list_button: str | None = None
    media_id: str | None = None
    reply_to: str | None = None


def error(status: int, code: int, message: str) -> web.Response:
    body = {"error": {"message": message, "type": "OAuthException", "code": code}}
    return web.json_response(body, status=status)


def invalid(detail: str) -> web.Response:
    return error(400, 131009, f"(#131009) Parameter value is not valid: {detail}")


def read_interactive(sent: WaSent, interactive: JSON) -> str | None:
    """Fill ``sent`` from an interactive message; what breaks Meta's rules, if anything."""
    sent.body = interactive["body"]["text"]
    if len(sent.body or "") > LIMITS["body"]:
        return "body too long"
    action = interactive["action"]
    if interactive["type"] == "button":
        replies = [b["reply"] for b in action["buttons"]]
        sent.choices = [(r["id"], r["title"]) for r in replies]
        if len(replies) > 3 or any(len(r["title"]) > LIMITS["button"] for r in replies):
            return "reply buttons"
        return None
    sent.listed, sent.list_button = True, action["button"]
    rows = [row for section in action["sections"] for row in section["rows"]]
    sent.choices = [(r["id"], r["title"]) for r in rows]
    sent.descriptions = [r.get("description") for r in rows]
    too_long = any(len(r["title"]) > LIMITS["row"] for r in rows) or any(
        len(d or "") > LIMITS["description"] for d in sent.descriptions
    )
    if len(rows) > 10 or too_long or len(action["button"]) > LIMITS["button"]:
        return "list rows"
    return None


class FakeGraph:
    def __init__(self) -> None:
        self.sent: list[WaSent] = []
        self.uploads: dict[str, bytes] = {}
        self.upload_count = 0
        self.blocked: set[str] = set()
        self.failures: dict[str, list[tuple[int, int]]] = {}  # wa_id → (HTTP status, code)
        self.webhook_url = ""
        self.base_url = ""
        self._media_ids = itertools.count(1_000_000_000_000_001)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(f"/{VERSION}/{PHONE_NUMBER_ID}/messages", self._messages)
        app.router.add_post(f"/{VERSION}/{PHONE_NUMBER_ID}/media", self._media)
        return app

    def to(self, wa_id: str) -> list[WaSent]:
        return [m for m in self.sent if m.to == wa_id]

    def fail_next(self, wa_id: str, status: int, code: int) -> None:
        self.failures.setdefault(wa_id, []).append((status, code))

    def forget_media(self) -> None:
        """Media ids expire after 30 days: every earlier upload is gone."""
        self.uploads.clear()

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {TOKEN}"

    async def _messages(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return error(401, 190, "Invalid OAuth access token.")
        payload = await request.json()
        to, kind = str(payload["to"]), str(payload["type"])
        if to in self.blocked:
            return error(400, 131026, "Message undeliverable")
        if self.failures.get(to):
            status, code = self.failures[to].pop(0)
            return error(status, code, f"error {code}")
        sent = WaSent(wamid(), to, kind, reply_to=(payload.get("context") or {}).get("message_id"))
        broken = self._read(sent, payload)
        if broken is not None:
            return broken
        self.sent.append(sent)
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": sent.id}],
            }
        )

    def _read(self, sent: WaSent, payload: JSON) -> web.Response | None:
        kind = sent.type
        if kind == "text":
            sent.body = payload["text"]["body"]
            return invalid("text too long") if len(sent.body or "") > LIMITS["text"] else None
        if kind == "interactive":
            broken = read_interactive(sent, payload["interactive"])
            return invalid(broken) if broken else None
        media = payload[kind]
        sent.media_id, sent.body = str(media.get("id")), media.get("caption")
        if sent.media_id not in self.uploads:
            return error(400, 100, "(#100) Invalid parameter: not a valid media id")
        return None

    async def _media(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return error(401, 190, "Invalid OAuth access token.")
        form = await request.post()
        upload = form["file"]
        assert isinstance(upload, web.FileField) and form["messaging_product"] == "whatsapp"
        media_id = str(next(self._media_ids))
        self.uploads[media_id] = upload.file.read()
        self.upload_count += 1
        return web.json_response({"id": media_id})

    async def post_webhook(
        self, value: JSON, *, secret: str | None = APP_SECRET, signature: str | None = None
    ) -> int:
        """Call the coach's webhook as Meta does, signed with ``secret`` (or the given
        ``signature``, or none); the HTTP status of the answer."""
        raw = json.dumps(envelope(PHONE_NUMBER_ID, value)).encode()
        return await self.post_raw(raw, secret=secret, signature=signature)

    async def post_raw(
        self, raw: bytes, *, secret: str | None = APP_SECRET, signature: str | None = None
    ) -> int:
        headers = {"Content-Type": "application/json"}
        if signature is None and secret is not None:
            signature = sign(secret, raw)
        if signature is not None:
            headers["X-Hub-Signature-256"] = signature
        async with (
            ClientSession() as http,
            http.post(self.webhook_url, data=raw, headers=headers) as answer,
        ):
            return answer.status


@asynccontextmanager
async def fake_graph() -> AsyncIterator[FakeGraph]:
    graph = FakeGraph()
    runner = web.AppRunner(graph.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    graph.base_url = f"http://127.0.0.1:{port}/{VERSION}"
    try:
        yield graph
    finally:
        await runner.cleanup()


__all__ = ["APP_SECRET", "PHONE_NUMBER_ID", "TOKEN", "FakeGraph", "WaSent", "fake_graph"]
