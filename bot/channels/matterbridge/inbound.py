"""Matterbridge API messages, as its JSON, turned into core events.

Every message carries ``text``, ``username``, ``userid``, ``protocol``, ``account``,
``gateway``, ``channel``, ``event``, ``timestamp``, ``id`` and ``Extra`` (files). The bridge
gives a message relayed to its API account no id of its own, and its buffer is sent again on
every connection; the router stamps each message with its time (to the nanosecond) once, so
a key made of the message's own fields is the same every time the same message comes back.
What the database cannot store (NUL, half a surrogate pair) is taken out of what is kept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from bot.core.channel import Buttons, Capabilities
from bot.core.commands import typed_event
from bot.core.events import Inbound, InboundKind, Sender
from bot.web.bodies import clean

JSON = dict[str, Any]
CHANNEL = Capabilities(
    "matterbridge",
    Buttons.NONE,  # text only: options are numbered lines, answered by typing the number
    max_text=3500,  # the bridge adds the coach's name; every side takes this much
    receives=frozenset(
        {
            InboundKind.TEXT,
            InboundKind.COMMAND,
            InboundKind.PHOTO,
            InboundKind.VOICE,
            InboundKind.DOCUMENT,
        }
    ),
    sends=frozenset({"image", "audio"}),  # as a link or a few words: see the delivery
    downloads=frozenset(),  # so no file is counted in the data a lesson costs
    can_edit=False,
    groups=True,
    # The sender's count for one gateway; the delivery keeps the group's own limit per
    # minute, counting one post that carries several replies once.
    chat_per_second=50.0,
    group_per_minute=20,
)
MESSAGE_EVENTS = frozenset({"", "user_action"})  # a message; /me; every other event is not
LONGEST_ID = 120  # the store keeps 128 characters of a chat or user id
LONGEST_NAME = 64  # and 64 of a first name
IMAGE = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic"})
AUDIO = frozenset({".ogg", ".opus", ".oga", ".mp3", ".m4a", ".aac", ".amr", ".wav"})


def event_key(message: JSON) -> str:
    """The same for every delivery of one message, different for any two messages."""
    fields = [
        message.get(name)
        for name in (
            "gateway",
            "account",
            "channel",
            "protocol",
            "userid",
            "username",
            "event",
            "timestamp",
            "id",
            "parent_id",
            "text",
        )
    ]
    digest = hashlib.sha256(json.dumps(fields, default=str).encode()).hexdigest()
    return f"mb:{digest[:40]}"


def bounded(value: str) -> str:
    """An id that fits the store; a longer one is replaced by its digest."""
    if len(value) <= LONGEST_ID:
        return value
    return "h:" + hashlib.sha256(value.encode()).hexdigest()


def person(message: JSON) -> str | None:
    """Who wrote, within the gateway: ``protocol:userid``, or the name where there is no id."""
    protocol = clean(str(message.get("protocol") or ""))
    user_id = clean(str(message.get("userid") or ""))
    username = clean(str(message.get("username") or ""))
    if user_id:
        return bounded(f"{protocol}:{user_id}")
    if username:
        return bounded(f"{protocol}:@{username}")
    return None


def files_kind(message: JSON) -> InboundKind | None:
    """What kind of file a message carries, by its name, if any."""
    extra = message.get("Extra")
    files = extra.get("file") if isinstance(extra, dict) else None
    if not isinstance(files, list) or not files:
        return None
    first = files[0] if isinstance(files[0], dict) else {}
    suffix = PurePosixPath(str(first.get("Name") or "")).suffix.lower()
    if suffix in IMAGE:
        return InboundKind.PHOTO
    if suffix in AUDIO:
        return InboundKind.VOICE
    return InboundKind.DOCUMENT


def message_event(message: JSON, gateways: Collection[str], at: datetime) -> Inbound | None:
    """The core event for one streamed message; None for events, other gateways, and
    messages with nobody behind them."""
    if str(message.get("event") or "") not in MESSAGE_EVENTS:
        return None
    gateway = message.get("gateway")
    if not isinstance(gateway, str) or not gateway or (gateways and gateway not in gateways):
        return None
    user = person(message)
    text = message.get("text")
    if user is None or (text is not None and not isinstance(text, str)):
        return None
    name = clean(str(message.get("username") or "")).strip()[:LONGEST_NAME] or None
    sender = Sender(CHANNEL.name, bounded(clean(gateway)), user, first_name=name, group=True)
    key = event_key(message)
    kind = files_kind(message)
    said = clean(text or "")
    if kind is not None:
        return Inbound(sender, kind, at, key, text=said or None)
    return typed_event(sender, key, said, at)
