"""Matterbridge's API account over HTTP: its stream of messages and its one way to post.

``Authorization: Bearer <token>`` on every call when the account has a ``Token`` (echo's
key-auth: 400 without the header, 401 with a wrong key). ``GET /api/stream`` answers one JSON
message per line, ``{"event":"api_connected"}`` first, then the buffer, then what arrives;
the header ``skip_before`` (RFC 3339) leaves out buffered messages up to that time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import aiohttp

POST_SECONDS = 30.0
CONNECT_SECONDS = 10.0


class Refused(Exception):
    """The API account refused the call (``status``): a wrong token, or a bad request."""

    def __init__(self, status: int) -> None:
        super().__init__(f"matterbridge answered {status}")
        self.status = status


class MatterbridgeApi:
    def __init__(self, base_url: str, token: str | None, *, idle_seconds: float) -> None:
        """``idle_seconds``: a stream silent that long is taken as lost (the bridge sends no
        keep-alive; a connection dropped on the way would otherwise be waited on forever)."""
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.idle_seconds = idle_seconds
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers=self.headers)
        return self._session

    async def post(self, gateway: str, text: str, username: str) -> None:
        """``POST /api/message``: the bridge relays ``text`` to every side of ``gateway``."""
        body = {"text": text, "username": username, "gateway": gateway}
        timeout = aiohttp.ClientTimeout(total=POST_SECONDS)
        async with self.session.post(
            f"{self.base_url}/api/message", json=body, timeout=timeout
        ) as response:
            if response.status >= 400:
                raise Refused(response.status)
            await response.read()

    @asynccontextmanager
    async def stream(self, skip_before: datetime | None) -> AsyncIterator[aiohttp.StreamReader]:
        """``GET /api/stream``: its body, to read line by line."""
        headers = {}
        if skip_before is not None:
            headers["skip_before"] = skip_before.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=CONNECT_SECONDS, sock_read=self.idle_seconds
        )
        async with self.session.get(
            f"{self.base_url}/api/stream", headers=headers, timeout=timeout
        ) as response:
            if response.status >= 400:
                raise Refused(response.status)
            yield response.content

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
