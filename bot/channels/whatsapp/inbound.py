"""WhatsApp webhook payloads, as the Cloud API's JSON, turned into core events and statuses.

A webhook call carries ``entry[].changes[].value`` objects; a value holds the learner's
``messages`` (with their ``contacts``) or ``statuses`` of the coach's own messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.channel import Buttons, Capabilities
from bot.core.commands import typed_event
from bot.core.events import Inbound, InboundKind, Sender

JSON = dict[str, Any]
CHANNEL = Capabilities(
    "whatsapp",
    Buttons.INLINE,
    max_buttons=10,  # a list message holds 10 rows; 3 or fewer go as reply buttons
    max_label=None,  # labels arrive whole: the delivery shortens titles, the body keeps them
    max_text=4096,
    sends=frozenset({"image", "audio"}),
    can_edit=False,
    groups=False,
    chat_per_second=1 / 6,  # the pair rate: about one message every 6 s per learner
    # A picture's message carries its own small preview, and the file comes from Meta's
    # servers over HTTPS: about 2 kB besides the file (whose kept size the upload tells).
    media_overhead=2000,
)
KINDS = {
    "image": InboundKind.PHOTO,
    "audio": InboundKind.VOICE,
    "voice": InboundKind.VOICE,
    "document": InboundKind.DOCUMENT,
    "location": InboundKind.LOCATION,
    "contacts": InboundKind.CONTACT,
    "sticker": InboundKind.STICKER,
}
IGNORED = frozenset({"system", "errors", "unsupported", "request_welcome"})


@dataclass(frozen=True)
class Status:
    """What WhatsApp says of a message the coach sent."""

    message_id: str
    chat_id: str
    status: str
    error: str | None = None
    code: int | None = None


def values(body: JSON, phone_number_id: str) -> Iterator[JSON]:
    """The ``messages`` changes meant for this phone number."""
    for entry in body.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            number = (value.get("metadata") or {}).get("phone_number_id")
            if change.get("field") == "messages" and str(number) == phone_number_id:
                yield value


def names(value: JSON) -> dict[str, str | None]:
    """The learners' profile names, by WhatsApp id."""
    return {
        str(c["wa_id"]): (c.get("profile") or {}).get("name")
        for c in value.get("contacts") or []
        if c.get("wa_id")
    }


def message_event(message: JSON, first_name: str | None, at: datetime) -> Inbound | None:
    """The core event for one message; None for what is not a learner's doing."""
    kind = str(message.get("type"))
    if kind in IGNORED:
        return None
    chat = str(message["from"])
    sender = Sender(CHANNEL.name, chat, chat, first_name=first_name)
    key = f"wa:m:{message['id']}"
    context = message.get("context") or {}
    fields: JSON = {
        "forwarded": bool(context.get("forwarded") or context.get("frequently_forwarded")),
        "message_id": str(message["id"]),
        "addressed": True,
    }
    payload = button_payload(message)
    if payload is not None:
        return Inbound(sender, InboundKind.BUTTON, at, key, payload=payload, **fields)
    replied = context.get("id")
    fields["reply_to_message_id"] = str(replied) if replied else None
    if kind == "text":
        return typed_event(sender, key, (message.get("text") or {}).get("body") or "", at, **fields)
    found = message.get(kind)
    content: JSON = found if isinstance(found, dict) else {}
    caption = content.get("caption")
    ref = str(content["id"]) if kind in ("image", "audio") and content.get("id") else None
    return Inbound(
        sender, KINDS.get(kind, InboundKind.OTHER), at, key, text=caption, media_ref=ref, **fields
    )


def button_payload(message: JSON) -> str | None:
    """The payload of a tapped reply button or list row (or a template's quick reply)."""
    if message.get("type") == "interactive":
        interactive = message.get("interactive") or {}
        reply = interactive.get(str(interactive.get("type"))) or {}
        return str(reply.get("id") or "")
    if message.get("type") == "button":
        return str((message.get("button") or {}).get("payload") or "")
    return None


def statuses(value: JSON) -> Iterator[Status]:
    for status in value.get("statuses") or []:
        errors = status.get("errors") or []
        code = str(errors[0].get("code")) if errors else ""
        yield Status(
            str(status["id"]),
            str(status.get("recipient_id")),
            str(status["status"]),
            f"whatsapp {code}" if errors else None,
            int(code) if code.isdigit() else None,
        )
