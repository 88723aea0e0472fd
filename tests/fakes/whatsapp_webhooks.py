"""WhatsApp webhook bodies in the Cloud API's shapes, and Meta's way of signing them."""

from __future__ import annotations

import hashlib
import hmac
import itertools
from typing import Any

JSON = dict[str, Any]
_ids = itertools.count(1)


def wamid() -> str:
    """A fresh WhatsApp message id, shaped like Meta's."""
    return f"wamid.HBgL{next(_ids):012d}FQIAEhgU"


def sign(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def envelope(phone_number_id: str, value: JSON) -> JSON:
    """A webhook call carrying one change of the ``messages`` field."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": phone_number_id,
                            },
                            **value,
                        },
                    }
                ],
            }
        ],
    }


def message(wa_id: str, name: str, kind: str, content: Any, **extra: Any) -> JSON:
    """The ``value`` of one learner's message: their contact and the message."""
    sent: JSON = {
        "from": wa_id,
        "id": wamid(),
        "timestamp": "1767225600",
        "type": kind,
        kind: content,
        **extra,
    }
    return {"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [sent]}


def text(wa_id: str, name: str, body: str, **extra: Any) -> JSON:
    return message(wa_id, name, "text", {"body": body}, **extra)


def tap(wa_id: str, name: str, tapped_id: str, row_id: str, title: str, listed: bool) -> JSON:
    """A tap on a reply button or a list row of the message ``tapped_id``."""
    kind = "list_reply" if listed else "button_reply"
    content = {"type": kind, kind: {"id": row_id, "title": title}}
    context = {"from": "15550783881", "id": tapped_id}
    return message(wa_id, name, "interactive", content, context=context)


def quick_reply(wa_id: str, name: str, template_id: str, payload: str, title: str) -> JSON:
    """A tap on a quick-reply button of the template message ``template_id``."""
    context = {"from": "15550783881", "id": template_id}
    content = {"payload": payload, "text": title}
    return message(wa_id, name, "button", content, context=context)


IMAGE_ID, VOICE_ID = "1479537139650973", "2754859441498128"  # what learners send


def image(wa_id: str, name: str, caption: str | None = None) -> JSON:
    content = {"mime_type": "image/jpeg", "sha256": "c2hhMjU2", "id": IMAGE_ID}
    if caption is not None:
        content["caption"] = caption
    return message(wa_id, name, "image", content)


def voice(wa_id: str, name: str) -> JSON:
    content = {"mime_type": "audio/ogg; codecs=opus", "sha256": "c2hh", "id": VOICE_ID}
    return message(wa_id, name, "audio", {**content, "voice": True})


def status(wa_id: str, message_id: str, state: str, code: int | None = None) -> JSON:
    """The ``value`` of a status of a message the coach sent."""
    reported: JSON = {
        "id": message_id,
        "status": state,
        "timestamp": "1767225601",
        "recipient_id": wa_id,
    }
    if code is not None:
        reported["errors"] = [{"code": code, "title": "Message undeliverable"}]
    return {"statuses": [reported]}


def message_id(value: JSON) -> str:
    """The id of the message a ``value`` carries."""
    return str(value["messages"][0]["id"])
