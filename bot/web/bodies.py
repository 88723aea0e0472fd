"""Reading what a browser sends, within bounds: size, time, nesting, encoding and characters."""

from __future__ import annotations

import asyncio
import codecs
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import BodyPartReader, web

from bot.core.text import N_, Msg

JSON_LIMIT = 64 * 1024
FIELD_LIMIT = 4 * 1024
UNREADABLE = N_("I could not read this message. Please try again.")
TOO_LONG = N_("This message is too long. Please send a shorter one.")
TOO_SLOW = N_("Your message arrived too slowly. Please check your connection and try again.")
_UNSAFE = re.compile("[\x00\ud800-\udfff]")


class Refused(Exception):
    """A request the coach will not take, with the sentence to show the learner."""

    def __init__(self, reason: Msg, status: int = 400, retry_after: int | None = None) -> None:
        super().__init__(reason.msgid)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


def clean(text: str) -> str:
    """Text the database takes: no NUL, and no half of a surrogate pair (they cannot be stored)."""
    return _UNSAFE.sub(lambda found: "" if found.group() == "\x00" else "\ufffd", text)


def charset(request: web.BaseRequest) -> str:
    """The body's declared character set; one Python does not know is refused."""
    name = request.charset or "utf-8"
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise Refused(UNREADABLE, 415) from None


async def within(idle: float, reading: Any) -> Any:
    """Await one read; a body that stops arriving for ``idle`` seconds is refused."""
    try:
        async with asyncio.timeout(idle):
            return await reading
    except TimeoutError:
        raise Refused(TOO_SLOW, 408) from None


async def read_body(request: web.BaseRequest, limit: int, idle: float) -> bytes:
    """The whole body, at most ``limit`` bytes, never waiting long for a byte that is late."""
    if request.content_length is not None and request.content_length > limit:
        raise Refused(TOO_LONG, 413)
    chunks, size = [], 0
    while chunk := await within(idle, request.content.readany()):
        size += len(chunk)
        if size > limit:
            raise Refused(TOO_LONG, 413)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(raw: bytes, encoding: str) -> dict[str, Any] | None:
    """A JSON object; an empty body is None; anything else is refused."""
    if not raw.strip():
        return None
    try:
        body = json.loads(raw.decode(encoding))
    except (ValueError, RecursionError):  # bad JSON, bad bytes, 4,300-digit numbers, deep nesting
        raise Refused(UNREADABLE) from None
    if not isinstance(body, dict):
        raise Refused(UNREADABLE)
    return body


def parse_form(raw: bytes, encoding: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(
            raw.decode(encoding), keep_blank_values=True, errors="strict", max_num_fields=50
        )
    except ValueError:  # bad bytes, bad percent-encoding, too many fields
        raise Refused(UNREADABLE) from None
    return {name: clean(value) for name, value in pairs}


async def read_field(part: BodyPartReader, idle: float) -> str:
    """A small form field of a multipart body, as text."""
    data = b""
    while chunk := await within(idle, part.read_chunk(1024)):
        data += chunk
        if len(data) > FIELD_LIMIT:
            raise Refused(TOO_LONG, 413)
    return clean(data.decode("utf-8", "replace"))


def small_int(value: object) -> int | None:
    """A message id as the database stores it (a positive 64-bit integer), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
        return value
    return None
