"""The web chat API in OpenAPI 3.1, served at ``/api/openapi.json`` for other front ends."""

from __future__ import annotations

from typing import Any

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string", "description": "A sentence for the learner."}},
}
_MESSAGE = {
    "type": "object",
    "required": ["id", "text", "buttons", "media", "lang", "direction", "asks"],
    "properties": {
        "id": {"type": "integer", "description": "Ask for what came after it with ?after=id."},
        "text": {"type": "string"},
        "buttons": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["label", "payload"],
                "properties": {"label": {"type": "string"}, "payload": {"type": "string"}},
            },
        },
        "media": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["kind", "url"],
                    "properties": {"kind": {"type": "string"}, "url": {"type": "string"}},
                },
            ]
        },
        "lang": {"type": "string", "description": "A BCP 47 language tag, e.g. fa-AF."},
        "direction": {"enum": ["ltr", "rtl"]},
        "asks": {
            "enum": [None, "reply", "forward"],
            "description": "A lesson asks the learner to reply to this message or forward it.",
        },
    },
}
_MESSAGES = {"type": "array", "items": {"$ref": "#/components/schemas/Message"}}
_ACTION = {
    "type": "object",
    "description": (
        "Text the learner typed (``/word`` is a command), or a button they tapped. "
        "A null field is the same as an absent one."
    ),
    "properties": {
        "text": {"type": ["string", "null"]},
        "button": {"type": ["string", "null"], "description": "The payload of a button."},
        "key": {
            "type": ["string", "null"],
            "pattern": "^[A-Za-z0-9_-]{1,100}$",
            "description": "Idempotency key: a retried request with the same key is answered once.",
        },
        "reply_to": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": 2**63 - 1,
            "description": "The id of the message answered.",
        },
        "forward_of": {"description": "Present (not null) when the text is forwarded."},
    },
}
_SAYING = {
    "allOf": [
        {"$ref": "#/components/schemas/Action"},
        {
            "anyOf": [
                {"required": ["text"], "properties": {"text": {"type": "string"}}},
                {"required": ["button"], "properties": {"button": {"type": "string"}}},
            ]
        },
    ]
}
_SENDING = {
    "type": "object",
    "required": ["kind"],
    "properties": {
        "kind": {"enum": ["photo", "voice", "document", "location", "contact"]},
        "key": {"type": "string"},
        "file": {"type": "string", "format": "binary"},
        "latitude": {"type": "string"},
        "longitude": {"type": "string"},
        "name": {"type": "string"},
        "phone": {"type": "string"},
    },
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string"}}}


def _error(description: str, retry: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if retry:
        response["headers"] = _RETRY_AFTER
    return response


def _ok(schema: dict[str, Any], links: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": "The coach's messages.",
        "content": {"application/json": {"schema": schema}},
    }
    if links:
        response["links"] = links
    return response


_ERRORS = {
    "400": _error("The request could not be read."),
    "404": _error("No conversation has this credential."),
    "405": _error("This method is not taken here."),
    "408": _error("The body arrived too slowly."),
    "413": _error("The body or the file is too big."),
    "415": _error("The body's character set is unknown."),
    "422": _error("A file or a field is not what it says it is."),
    "429": _error("Too many requests from this client; wait Retry-After seconds.", retry=True),
    "503": _error("The database is unavailable; retry after Retry-After seconds.", retry=True),
}
_CREDENTIAL = {
    "name": "conversation",
    "in": "path",
    "required": True,
    "description": "The credential answered by POST /api/webchat. It is the only key.",
    "schema": {"type": "string"},
}
_LINKS = {
    name: {"operationId": name, "parameters": {"conversation": "$response.body#/conversation"}}
    for name in ("say", "fetch")
}
_START_BODY = {"$ref": "#/components/schemas/Action"}
OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Coach web chat",
        "version": "1",
        "description": (
            "Start a conversation with POST /api/webchat; keep the credential it answers and "
            "use it in the path of every later call. Anyone holding it can read and write the "
            'conversation, so keep it like a password. Errors are {"error": sentence} in the '
            "language of Accept-Language or of the learner."
        ),
    },
    "paths": {
        "/api/webchat": {
            "post": {
                "operationId": "start",
                "summary": "Start a conversation, optionally with its first message.",
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": _START_BODY}},
                },
                "responses": {
                    "200": _ok(
                        {
                            "type": "object",
                            "required": ["conversation", "messages"],
                            "properties": {
                                "conversation": {"type": "string"},
                                "messages": _MESSAGES,
                            },
                        },
                        _LINKS,
                    ),
                    **{code: _ERRORS[code] for code in ("400", "408", "413", "415", "429", "503")},
                },
            }
        },
        "/api/webchat/{conversation}": {
            "parameters": [_CREDENTIAL],
            "post": {
                "operationId": "say",
                "summary": "Send text, a button, a file, a place or a contact.",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": _SAYING},
                        "multipart/form-data": {"schema": _SENDING},
                        "application/x-www-form-urlencoded": {"schema": _SENDING},
                    },
                },
                "responses": {
                    "200": _ok(
                        {
                            "type": "object",
                            "required": ["messages"],
                            "properties": {"messages": _MESSAGES},
                        }
                    ),
                    **{code: _ERRORS[code] for code in _ERRORS if code != "405"},
                },
            },
            "get": {
                "operationId": "fetch",
                "summary": "Everything the coach sent to this conversation after a message id.",
                "parameters": [
                    {
                        "name": "after",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
                    }
                ],
                "responses": {
                    "200": _ok(
                        {
                            "type": "object",
                            "required": ["messages"],
                            "properties": {"messages": _MESSAGES},
                        }
                    ),
                    **{code: _ERRORS[code] for code in ("400", "404", "429", "503")},
                },
            },
        },
    },
    "components": {"schemas": {"Message": _MESSAGE, "Error": _ERROR, "Action": _ACTION}},
}
