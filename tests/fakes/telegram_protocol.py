"""The Bot API's wire format: reading parameters in any of its encodings, writing answers."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .telegram_objects import JSON

JSON_KEYS = frozenset(
    {
        "reply_markup",
        "commands",
        "scope",
        "allowed_updates",
        "reply_parameters",
        "entities",
        "caption_entities",
        "link_preview_options",
        "media",
    }
)
INT_KEYS = frozenset(
    {
        "chat_id",
        "message_id",
        "reply_to_message_id",
        "message_thread_id",
        "offset",
        "limit",
        "timeout",
        "duration",
        "width",
        "height",
        "cache_time",
        "max_connections",
        "user_id",
        "from_chat_id",
    }
)
BOOL_KEYS = frozenset(
    {
        "show_alert",
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "allow_sending_without_reply",
        "disable_web_page_preview",
        "has_spoiler",
        "disable_content_type_detection",
    }
)
_INT = re.compile(r"-?\d+")


class ApiError(Exception):
    """A refusal, answered as {"ok": false, ...} with the status Telegram uses."""

    def __init__(
        self,
        status: int,
        description: str,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        if self.migrate_to_chat_id is not None:
            body["parameters"] = {"migrate_to_chat_id": self.migrate_to_chat_id}
        return body


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


@dataclass(frozen=True)
class Upload:
    """A file that arrived as a multipart part."""

    filename: str
    content_type: str
    data: bytes


def _coerce(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in JSON_KEYS and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError as error:
            raise bad_request(f"can't parse {key} JSON object") from error
    if key in INT_KEYS and _INT.fullmatch(value):
        return int(value)
    if key in BOOL_KEYS:
        return value.lower() in ("true", "1")
    return value


async def read_params(request: web.Request) -> JSON:
    """All parameters of a call, from the query string and a JSON, urlencoded or multipart body."""
    raw: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise bad_request("JSON object expected")
            raw.update(body)
        else:
            for key, value in (await request.post()).items():
                raw[key] = _read_field(value)
    return {key: _coerce(key, value) for key, value in raw.items()}


def _read_field(value: Any) -> Any:
    if isinstance(value, web.FileField):
        with value.file:
            data = value.file.read()
        return Upload(value.filename, value.content_type, data)
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode()
    return value


def answer(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def refusal(error: ApiError) -> web.Response:
    return web.json_response(error.body(), status=error.status)


def required(params: JSON, key: str, reason: str | None = None) -> Any:
    value = params.get(key)
    if value is None or value == "":
        raise bad_request(reason or f"{key} is empty")
    return value


def required_int(params: JSON, key: str) -> int:
    value = required(params, key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise bad_request(f"invalid {key} specified")
    return value


def optional_json(params: JSON, key: str) -> Any:
    value = params.get(key)
    if isinstance(value, str) and value:
        raise bad_request(f"can't parse {key} JSON object")
    return value or None
