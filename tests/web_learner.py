"""A learner using the web chat's JSON API, as the page does."""

from __future__ import annotations

import io
import itertools
import weakref
from dataclasses import dataclass, field
from typing import Any

from aiohttp import FormData
from aiohttp.test_utils import TestClient

from bot.web.app import CONVERSATION_KEYS

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
OGG = b"OggS" + b"\x00" * 64
_keys = itertools.count(1)
# Per test client, the credential the server issued for each named conversation.
_credentials: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()


@dataclass
class WebLearner:
    """``conversation`` names a conversation in the test; the server issues its credential."""

    client: TestClient[Any, Any]
    conversation: str | None = None
    language: str = "en"
    last: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    error: str | None = None

    @property
    def credential(self) -> str | None:
        return _credentials.get(self.client, {}).get(self.conversation or "")

    @property
    def url(self) -> str:
        return f"/api/webchat/{self.credential}" if self.credential else "/api/webchat"

    @property
    def chat_id(self) -> str:
        """The chat id the coach keeps for this learner (a keyed hash of the credential)."""
        assert self.credential is not None, "the learner has not started yet"
        found = self.client.app[CONVERSATION_KEYS].chat_id(self.credential)
        assert found is not None
        return str(found)

    async def post(self, **kwargs: Any) -> list[dict[str, Any]]:
        headers = {"Accept-Language": self.language}
        response = await self.client.post(self.url, headers=headers, **kwargs)
        body = await response.json()
        self.status, self.error = response.status, body.get("error")
        if "conversation" in body:
            self.conversation = self.conversation or f"learner-{next(_keys)}"
            _credentials.setdefault(self.client, {})[self.conversation] = body["conversation"]
        if response.status == 200:
            self.last = body["messages"]
        return list(body.get("messages", []))

    async def says(self, text: str, **extra: Any) -> list[str]:
        return texts(await self.post(json={"text": text, "key": f"k{next(_keys)}", **extra}))

    async def taps(self, label: str) -> list[str]:
        return texts(
            await self.post(json={"button": self.payload(label), "key": f"k{next(_keys)}"})
        )

    async def sends(self, kind: str, content: bytes = b"", **fields: str) -> list[str]:
        form = FormData()
        form.add_field("kind", kind)
        form.add_field("key", f"k{next(_keys)}")
        for name, value in fields.items():
            if name == "file_hint":
                continue
            form.add_field(name, value)
        if content or "file_hint" in fields:
            form.add_field(
                "file",
                io.BytesIO(content),
                filename="upload.bin",
                content_type="application/octet-stream",
            )
        return texts(await self.post(data=form))

    async def fetch(self, after: int = 0) -> list[dict[str, Any]]:
        response = await self.client.get(self.url, params={"after": str(after)})
        body: dict[str, Any] = await response.json()
        if body["messages"]:
            self.last = body["messages"]
        return list(body["messages"])

    def buttons(self) -> list[str]:
        """The labels of the last message with buttons, without their numbers."""
        offered = [m for m in self.last if m["buttons"]]
        return [b["label"].split(". ", 1)[1] for b in offered[-1]["buttons"]] if offered else []

    def payload(self, label: str) -> str:
        for message in reversed(self.last):
            for button in message["buttons"]:
                if button["label"].split(". ", 1)[1] == label:
                    return str(button["payload"])
        raise AssertionError(f"no button {label!r} among {self.buttons()}")


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [str(m["text"]) for m in messages]
