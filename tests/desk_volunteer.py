"""A volunteer using the desk in a browser of their own (their own cookies), as forms do."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientResponse, ClientSession, CookieJar
from aiohttp.test_utils import TestClient

from bot.services.coach import utc_now
from bot.services.volunteers import Volunteers
from bot.store.unit_of_work import Store


async def invited(
    store: Store, name: str, languages: list[str] | None = None, coordinator: bool = False
) -> tuple[int, str]:
    """A new volunteer and the token of their browser sign-in link."""
    made = await Volunteers(store, utc_now).invite(
        name, languages or [], [], "", coordinator=coordinator
    )
    return made.volunteer_id, made.web_token


@dataclass
class DeskVolunteer:
    """``client``: the test client of the coach's web app, or the address it is served at."""

    client: TestClient[Any, Any] | str
    session: ClientSession = field(init=False)
    status: int = 0

    def __post_init__(self) -> None:
        self.session = ClientSession(cookie_jar=CookieJar(unsafe=True))

    def url(self, path: str) -> str:
        if isinstance(self.client, str):
            return self.client + path
        return str(self.client.make_url(path))

    async def close(self) -> None:
        await self.session.close()

    async def page(self, path: str, **kwargs: Any) -> str:
        async with self.session.get(self.url(path), **kwargs) as response:
            self.status = response.status
            return await response.text()

    async def post(self, path: str, data: dict[str, str], **kwargs: Any) -> str:
        async with self.session.post(self.url(path), data=data, **kwargs) as response:
            self.status = response.status
            self.last = response
            return await response.text()

    async def sign_in(self, token: str) -> ClientResponse:
        async with self.session.post(
            self.url(f"/desk/sign-in/{token}"), allow_redirects=False
        ) as response:
            self.status = response.status
            return response

    async def takes(self, request: int) -> str:
        return await self.post(f"/desk/requests/{request}/claim", {"nonce": nonce()})

    async def writes(self, request: int, text: str, once: str | None = None) -> str:
        data = {"text": text, "nonce": once or nonce()}
        return await self.post(f"/desk/requests/{request}/messages", data)

    async def closes(self, request: int, outcome: str, note: str = "") -> str:
        data = {"outcome": outcome, "note": note, "nonce": nonce()}
        return await self.post(f"/desk/requests/{request}/close", data)

    async def messages(self, request: int, after: int = 0) -> dict[str, Any]:
        async with self.session.get(
            self.url(f"/api/desk/requests/{request}/messages"), params={"after": str(after)}
        ) as response:
            self.status = response.status
            body: dict[str, Any] = await response.json()
            return body


def nonce() -> str:
    return secrets.token_urlsafe(12)
