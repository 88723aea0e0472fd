"""A fake Matterbridge API account on loopback, speaking its real HTTP shapes.

As ``bridge/api/api.go`` does: ``GET /api/stream`` answers one JSON message per line (Go's
encoder: the whole ``config.Message``, then a newline), ``{"event":"api_connected"}`` first,
then every buffered message (those after the ``skip_before`` header's time), then each new
one; ``GET /api/messages`` answers the buffer as a JSON array and does not clear it;
``POST /api/message`` relays a message to its gateway and answers it back with ``channel``,
``protocol`` and ``account`` fixed and no id; ``GET /api/health`` answers ``OK``. With a
token, every call needs ``Authorization: Bearer <token>`` (echo's key-auth: 400 without the
header, 401 with a wrong key). The router stamps each message with its time, to the
nanosecond, once. The buffer is a ring of ``Buffer`` messages.

A test makes people in a gateway speak, breaks the stream mid-way, takes the bridge away
and brings it back on the same port, and slips bad lines into the stream.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

JSON = dict[str, Any]
TOKEN = "matterbridge-api-token-for-tests"
ACCOUNT = "api.coach"
GATEWAY = "wednesday-class"


def go_time(nanoseconds: int) -> str:
    """A time as Go's encoder writes it (RFC 3339, nanoseconds, trailing zeros dropped)."""
    seconds, fraction = divmod(nanoseconds, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{fraction:09d}".rstrip("0")
    return f"{stamp}.{digits}Z" if digits else f"{stamp}Z"


def message(**fields: Any) -> JSON:
    """A ``config.Message`` with every field, as the bridge encodes it."""
    return {
        "text": "",
        "channel": "",
        "username": "",
        "userid": "",
        "avatar": "",
        "account": "",
        "event": "",
        "protocol": "",
        "gateway": "",
        "parent_id": "",
        "timestamp": "0001-01-01T00:00:00Z",
        "id": "",
        "Extra": None,
        **fields,
    }


@dataclass(frozen=True)
class Person:
    """Someone in a bridged group: their WhatsApp id and push name, as the bridge sees them."""

    name: str
    userid: str
    protocol: str = "whatsapp"
    account: str = "whatsapp.association"
    channel: str = "120363041234567890@g.us"


@dataclass
class Posted:
    """One message the coach posted, as the group sees it."""

    gateway: str
    text: str
    username: str
    at: float  # the event loop's time it arrived


@dataclass
class _Stream:
    lines: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    request: web.Request | None = None


class FakeMatterbridge:
    def __init__(self, token: str | None = TOKEN, buffer: int = 100) -> None:
        self.token = token
        self.buffer: deque[JSON] = deque(maxlen=buffer)
        self.posted: list[Posted] = []
        self.refused = 0  # calls refused for their token
        self.skip_before: list[str | None] = []  # the header of each stream request
        self.post_failures: list[int] = []  # HTTP statuses to answer the next posts with
        self.base_url = ""
        self._streams: list[_Stream] = []
        self._last_stamp = 0
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._port = 0
        self._away = False

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/health", self._health)
        app.router.add_get("/api/messages", self._messages)
        app.router.add_get("/api/stream", self._stream)
        app.router.add_post("/api/message", self._post)
        return app

    # What the test does.

    def say(self, person: Person, text: str, gateway: str = GATEWAY, **fields: Any) -> JSON:
        """``person`` writes ``text`` in the group: buffered, and streamed to every reader."""
        said = message(
            text=text,
            channel=person.channel,
            username=person.name,
            userid=person.userid,
            account=person.account,
            protocol=person.protocol,
            gateway=gateway,
            timestamp=self._stamp(),
            **fields,
        )
        self.buffer.append(said)
        self.stream_line(json.dumps(said).encode() + b"\n")
        return said

    def stream_line(self, line: bytes) -> None:
        """Bytes to every open stream as they are (not kept in the buffer)."""
        for stream in self._streams:
            stream.lines.put_nowait(line)

    def break_streams(self) -> None:
        """Every open stream's connection cut in the middle, as a network or a crash does."""
        for stream in list(self._streams):
            if stream.request is not None and stream.request.transport is not None:
                stream.request.transport.abort()
            stream.lines.put_nowait(None)

    async def go_away(self) -> None:
        """The bridge stops: streams broken, and nobody listens on its port any more."""
        self.break_streams()
        self._away = True  # connections kept alive from before are cut at their next call
        if self._site is not None:
            await self._site.stop()
            self._site = None

    async def come_back(self) -> None:
        """The bridge listens again on the same port, with the messages it still holds."""
        assert self._runner is not None and self._site is None
        self._away = False
        self._site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        await self._site.start()

    @property
    def streaming(self) -> int:
        """Streams open now: one whose reader hung up is not counted, though the bridge only
        notices when it next writes to it."""
        return sum(1 for stream in self._streams if _connected(stream))

    def posts(self, gateway: str = GATEWAY) -> list[Posted]:
        return [p for p in self.posted if p.gateway == gateway]

    def most_in_any(self, seconds: float, gateway: str = GATEWAY) -> int:
        """The most posts to ``gateway`` that arrived within any ``seconds``."""
        times = [p.at for p in self.posts(gateway)]
        return max(
            (sum(1 for t in times[i:] if t < start + seconds) for i, start in enumerate(times)),
            default=0,
        )

    # The API.

    def _stamp(self) -> str:
        now = max(time.time_ns(), self._last_stamp + 1)
        self._last_stamp = now
        return go_time(now)

    def _refusal(self, request: web.Request) -> web.Response | None:
        if self._away and request.transport is not None:
            request.transport.abort()
        if self.token is None:
            return None
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            self.refused += 1
            return web.json_response({"message": "missing key in request header"}, status=400)
        if header.removeprefix("Bearer ") != self.token:
            self.refused += 1
            return web.json_response({"message": "Unauthorized"}, status=401)
        return None

    def _after(self, request: web.Request) -> list[JSON]:
        raw = request.headers.get("skip_before")
        if raw is None:
            return list(self.buffer)
        skip = datetime.fromisoformat(raw)
        return [m for m in self.buffer if datetime.fromisoformat(m["timestamp"]) > skip]

    async def _health(self, request: web.Request) -> web.StreamResponse:
        return self._refusal(request) or web.Response(text="OK")

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        refused = self._refusal(request)
        if refused is not None:
            return refused
        return web.Response(
            text=json.dumps(self._after(request), indent=1), content_type="application/json"
        )

    async def _post(self, request: web.Request) -> web.StreamResponse:
        refused = self._refusal(request)
        if refused is not None:
            return refused
        if self.post_failures:
            return web.json_response({"message": "failed"}, status=self.post_failures.pop(0))
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"message": "Syntax error"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"message": "Unmarshal type error"}, status=400)
        posted = Posted(
            str(body.get("gateway") or ""),
            str(body.get("text") or ""),
            str(body.get("username") or ""),
            asyncio.get_running_loop().time(),
        )
        self.posted.append(posted)
        fixed = {"channel": "api", "protocol": "api", "account": ACCOUNT, "id": ""}
        return web.json_response(message(**{**body, **fixed, "timestamp": self._stamp()}))

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        refused = self._refusal(request)
        if refused is not None:
            return refused
        self.skip_before.append(request.headers.get("skip_before"))
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        stream = _Stream(request=request)
        greeting = message(event="api_connected", timestamp=self._stamp())
        for buffered in [greeting, *self._after(request)]:
            stream.lines.put_nowait(json.dumps(buffered).encode() + b"\n")
        self._streams.append(stream)
        try:
            while (line := await stream.lines.get()) is not None:
                await response.write(line)
        except (ConnectionError, RuntimeError):
            pass
        finally:
            self._streams.remove(stream)
        return response


def _connected(stream: _Stream) -> bool:
    transport = stream.request.transport if stream.request is not None else None
    return transport is not None and not transport.is_closing()


@asynccontextmanager
async def fake_matterbridge(
    token: str | None = TOKEN, buffer: int = 100
) -> AsyncIterator[FakeMatterbridge]:
    bridge = FakeMatterbridge(token, buffer)
    bridge._runner = runner = web.AppRunner(bridge.app(), shutdown_timeout=0.5)
    await runner.setup()
    bridge._site = web.TCPSite(runner, "127.0.0.1", 0)
    await bridge._site.start()
    bridge._port = runner.addresses[0][1]
    bridge.base_url = f"http://127.0.0.1:{bridge._port}"
    try:
        yield bridge
    finally:
        for stream in list(bridge._streams):
            stream.lines.put_nowait(None)
        await runner.cleanup()


__all__ = ["GATEWAY", "TOKEN", "FakeMatterbridge", "Person", "Posted", "fake_matterbridge"]
