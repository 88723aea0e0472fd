"""A fake WhatsApp Cloud API (Meta's Graph API) on loopback, speaking its real HTTP shapes.

It takes ``POST /{version}/{phone_number_id}/messages`` and ``.../media`` as Meta does,
checks the limits Meta checks (3 reply buttons of 20 characters, 10 list rows of 24 with
descriptions of 72, interactive bodies of 1024), records what was sent, answers with Meta's
errors when a test asks for them, and calls the coach's webhook with signed bodies.

Like Meta, it refuses a free-form message to a learner whose last message is more than 24
hours old on its clock (131047) and takes approved templates at any time (132001 for one it
does not know); on request it keeps the pair rate (131056) and the number's throughput
(130429), and reports a message's status before answering the call that sent it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import ClientSession, web

from tests.fakes.whatsapp_webhooks import (
    IMAGE_ID,
    JSON,
    VOICE_ID,
    envelope,
    sign,
    status,
    wamid,
)

TOKEN = "EAAG-fake-access-token"
PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "fake-app-secret-0123456789abcdef"
VERSION = "v26.0"
LIMITS = {"button": 20, "row": 24, "description": 72, "body": 1024, "text": 4096}
WINDOW = timedelta(hours=24)
IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})  # what Meta sends as an image


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
    template: str | None = None  # a template's name; its language and parameters below
    language: str | None = None
    params: list[str] = field(default_factory=list)
    at: float = 0.0  # when it was accepted (the event loop's time)


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


def read_template(sent: WaSent, template: JSON) -> None:
    sent.template, sent.language = template["name"], template["language"]["code"]
    for part in template.get("components") or []:
        if part["type"] == "body":
            sent.params = [p["text"] for p in part["parameters"]]
        elif part["type"] == "button":
            payload = part["parameters"][0]["payload"]
            sent.choices.append((payload, f"quick reply {part['index']}"))


class FakeGraph:
    def __init__(self) -> None:
        self.sent: list[WaSent] = []
        self.uploads: dict[str, bytes] = {}
        self.upload_types: dict[str, str] = {}  # the MIME type each upload was given
        self.submitted: dict[tuple[str, str], JSON] = {}  # templates sent for review
        # What learners sent, by media id (the ids the webhook fixtures use).
        self.learners_media: dict[str, bytes] = {
            IMAGE_ID: b"\xff\xd8\xff\xe0" + bytes(60),
            VOICE_ID: b"OggS\x00\x02" + bytes(26),
        }
        self.upload_count = 0
        # Meta processes what is uploaded: the size of the file it keeps, from the upload's.
        self.kept_size: Callable[[bytes], int] = len
        self.blocked: set[str] = set()
        self.failures: dict[str, list[tuple[int, int]]] = {}  # wa_id → (HTTP status, code)
        self.webhook_url = ""
        self.base_url = ""
        self._media_ids = itertools.count(1_000_000_000_000_001)
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.last_inbound: dict[str, datetime] = {}  # wa_id → their last message, on the clock
        self.approved: set[tuple[str, str]] | None = None  # (name, language); None: all
        self.outside_window = 0  # free-form messages the coach tried outside the window
        self.pair_rate: tuple[float, float] | None = None  # (seconds a message, burst)
        self.throughput: int | None = None  # messages a second for the whole number
        self.refused: dict[int, int] = {}  # error code → times answered
        self.status_first: str | None = None  # a status to report before answering a send
        self.webhook_answers: list[int] = []
        self._pairs: dict[str, float] = {}  # wa_id → when its next message is due
        self._second: deque[float] = deque()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(f"/{VERSION}/{PHONE_NUMBER_ID}/messages", self._messages)
        app.router.add_post(f"/{VERSION}/{PHONE_NUMBER_ID}/media", self._media)
        app.router.add_get(f"/{VERSION}/{{media_id}}", self._media_url)
        app.router.add_post(f"/{VERSION}/{{waba}}/message_templates", self._create_template)
        app.router.add_get("/lookaside/{media_id}", self._download)
        return app

    def to(self, wa_id: str) -> list[WaSent]:
        return [m for m in self.sent if m.to == wa_id]

    def fail_next(self, wa_id: str, status: int, code: int) -> None:
        self.failures.setdefault(wa_id, []).append((status, code))

    def forget_media(self) -> None:
        """Media ids expire after 30 days: every earlier upload is gone."""
        self.uploads.clear()

    def inside_window(self, wa_id: str) -> bool:
        """Whether a free-form message may go to ``wa_id``; a learner this fake never heard
        from counts as inside (tests that call the delivery directly)."""
        last = self.last_inbound.get(wa_id)
        return last is None or self.clock() - last < WINDOW

    def _refuse(self, status: int, code: int, message: str) -> web.Response:
        self.refused[code] = self.refused.get(code, 0) + 1
        return error(status, code, message)

    def _over_limits(self, to: str) -> web.Response | None:
        now = asyncio.get_running_loop().time()
        if self.throughput is not None:
            while self._second and self._second[0] <= now - 1.0:
                self._second.popleft()
            if len(self._second) >= self.throughput:
                return self._refuse(400, 130429, "(#130429) Rate limit hit")
        if self.pair_rate is not None:
            every, burst = self.pair_rate  # a burst, then one message every ``every`` s
            due = max(self._pairs.get(to, now), now)
            if due - now > (burst - 1) * every:
                return self._refuse(400, 131056, "(#131056) Pair rate limit hit")
            self._pairs[to] = due + every
        self._second.append(now)
        return None

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
            return self._refuse(status, code, f"error {code}")
        if kind != "template" and not self.inside_window(to):
            self.outside_window += 1
            return self._refuse(400, 131047, "(#131047) Re-engagement message")
        sent = WaSent(wamid(), to, kind, reply_to=(payload.get("context") or {}).get("message_id"))
        broken = self._read(sent, payload)
        if broken is not None:
            return broken
        over = self._over_limits(to)
        if over is not None:
            return over
        sent.at = asyncio.get_running_loop().time()
        self.sent.append(sent)
        if self.status_first is not None:
            await self._report_first(to, sent.id, self.status_first)
        answer: JSON = {"id": sent.id}
        if kind == "template":
            answer["message_status"] = "accepted"
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [answer],
            }
        )

    async def _report_first(self, to: str, message_id: str, state: str) -> None:
        """Meta's status webhook can reach the coach before the answer to the send: call it
        now, and answer the send a moment later, while the webhook call is still open."""

        async def report() -> None:
            for _ in range(5):  # Meta calls again, later, until the coach answers 200
                answer = await self.post_webhook(status(to, message_id, state))
                self.webhook_answers.append(answer)
                if answer == 200:
                    return
                await asyncio.sleep(0.5)

        asyncio.get_running_loop().create_task(report())
        await asyncio.sleep(0.2)

    def _read(self, sent: WaSent, payload: JSON) -> web.Response | None:
        kind = sent.type
        if kind == "text":
            sent.body = payload["text"]["body"]
            return invalid("text too long") if len(sent.body or "") > LIMITS["text"] else None
        if kind == "interactive":
            broken = read_interactive(sent, payload["interactive"])
            return invalid(broken) if broken else None
        if kind == "template":
            read_template(sent, payload["template"])
            known = self.approved is None or (sent.template, sent.language) in self.approved
            if not known:
                return self._refuse(404, 132001, "(#132001) Template name does not exist")
            return None
        media = payload[kind]
        sent.media_id, sent.body = str(media.get("id")), media.get("caption")
        if sent.media_id not in self.uploads:
            return error(400, 100, "(#100) Invalid parameter: not a valid media id")
        if kind == "image" and self.upload_types.get(sent.media_id) not in IMAGE_TYPES:
            # Meta shows an image only as JPEG or PNG; a WebP goes only as a sticker.
            return error(400, 131053, "(#131053) Media upload error: unsupported image type")
        return None

    async def _media(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return error(401, 190, "Invalid OAuth access token.")
        form = await request.post()
        upload = form["file"]
        assert isinstance(upload, web.FileField) and form["messaging_product"] == "whatsapp"
        media_id = str(next(self._media_ids))
        self.uploads[media_id] = upload.file.read()
        self.upload_types[media_id] = str(form.get("type") or upload.content_type)
        self.upload_count += 1
        return web.json_response({"id": media_id})

    async def _create_template(self, request: web.Request) -> web.Response:
        """Meta's create-message-template call: pending review, or refused when that name
        is already there in that language."""
        if not self._authorised(request):
            return error(401, 190, "Invalid OAuth access token.")
        body = await request.json()
        name, language = str(body["name"]), str(body["language"])
        if (name, language) in self.submitted:
            refused = {
                "message": "Invalid parameter",
                "type": "OAuthException",
                "code": 100,
                "error_subcode": 2388024,
                "error_user_msg": "Content in this language already exists.",
            }
            return web.json_response({"error": refused}, status=400)
        self.submitted[(name, language)] = body
        template_id = str(next(self._media_ids))
        return web.json_response({"id": template_id, "status": "PENDING", "category": "UTILITY"})

    async def _media_url(self, request: web.Request) -> web.Response:
        """Retrieve a media URL, as Meta does: it works only with the token."""
        media_id = request.match_info["media_id"]
        data = self.learners_media.get(media_id)
        kept = len(data) if data is not None else None
        if media_id in self.uploads:
            data = self.uploads[media_id]
            kept = self.kept_size(data)
        if not self._authorised(request):
            return error(401, 190, "Invalid OAuth access token.")
        if data is None:
            return error(400, 100, "(#100) Invalid parameter")
        url = f"{self.base_url.rsplit('/', 1)[0]}/lookaside/{media_id}"
        return web.json_response(
            {
                "url": url,
                "mime_type": "image/jpeg",
                "sha256": "c2hh",
                "file_size": kept,
                "id": media_id,
                "messaging_product": "whatsapp",
            }
        )

    async def _download(self, request: web.Request) -> web.Response:
        data = self.learners_media.get(request.match_info["media_id"])
        if not self._authorised(request) or data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    async def post_webhook(
        self, value: JSON, *, secret: str | None = APP_SECRET, signature: str | None = None
    ) -> int:
        """Call the coach's webhook as Meta does, signed with ``secret`` (or the given
        ``signature``, or none); the HTTP status of the answer."""
        for message in value.get("messages") or []:
            self.last_inbound[str(message["from"])] = self.clock()
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
