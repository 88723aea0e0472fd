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
                    "properties": {
                        "kind": {"type": "string"},
                        "url": {"type": "string"},
                        "alt": {
                            "type": "string",
                            "description": "A picture's description, in the message's language.",
                        },
                        "fallback": {
                            "type": "string",
                            "description": "The picture as PNG or JPEG, where ``url`` is a "
                            "WebP, for a browser that cannot show WebP.",
                        },
                    },
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
    for name in ("say", "fetch", "listen")
}
_START_BODY = {"$ref": "#/components/schemas/Action"}
_MESSAGE_ID = {"type": "string", "pattern": "^[0-9]{1,18}$"}
_STREAM_KEY = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"}
_MY_DATA = {
    "get": {
        "operationId": "mydata",
        "summary": "Everything the coach keeps about this conversation, as a file to save.",
        "description": (
            "The answer to /mydata links here. The learner's row, progress, events, the "
            "coach's messages still kept, and their requests for a person with the messages "
            "in them; volunteers by first name. Served as an attachment, never cached. "
            "`learner` is null when nothing is kept (never started, or erased)."
        ),
        "responses": {
            "200": {
                "description": "What is kept, as JSON.",
                "headers": {
                    "Content-Disposition": {
                        "schema": {"type": "string"},
                        "description": 'attachment; filename="mydata.json"',
                    },
                },
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["exported_at", "learner"],
                            "properties": {
                                "exported_at": {"type": "string"},
                                "learner": {"type": ["object", "null"]},
                            },
                        }
                    }
                },
            },
            **{code: _ERRORS[code] for code in ("404", "429", "503")},
        },
    }
}
_STREAM = {
    "get": {
        "operationId": "listen",
        "summary": "New messages as server-sent events, as they are written.",
        "description": (
            "Only for a client that asks for text/event-stream in Accept (EventSource does); "
            "others are answered 406. The stream begins with `retry: <ms>` and a comment "
            "`: <seconds>` giving the heartbeat interval; then each batch of new messages is "
            'one event, `id: <last message id>` and `data: {"messages": [Message, ...]}`. '
            "While nothing happens a heartbeat comment `:` comes every interval (60 s by "
            "default), so a client that hears nothing for twice that long may reconnect. "
            "Reconnect with Last-Event-ID (EventSource sends it) or ?after=: nothing is lost "
            "or sent twice. A stream ends by itself after a while, and when the coach stops; "
            "reconnect after the retry delay. Too many open streams from one client: 429, "
            "then poll GET /api/webchat/{conversation}?after= instead."
        ),
        "parameters": [
            {
                "name": "after",
                "in": "query",
                "required": False,
                "description": "Send what came after this message id.",
                "schema": _MESSAGE_ID,
            },
            {
                "name": "key",
                "in": "query",
                "required": False,
                "description": (
                    "The page's own name for this stream; a POST with ?stream=<key> gets its "
                    "replies in its answer, and they are not sent again on this stream."
                ),
                "schema": _STREAM_KEY,
            },
            {
                "name": "Last-Event-ID",
                "in": "header",
                "required": False,
                "description": "The last event's id; the later of it and after counts.",
                "schema": _MESSAGE_ID,
            },
        ],
        "responses": {
            "200": {
                "description": "A stream of server-sent events.",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            },
            "406": _error("The client did not ask for text/event-stream."),
            **{code: _ERRORS[code] for code in ("400", "404", "429", "503")},
        },
    }
}
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
                "parameters": [
                    {
                        "name": "stream",
                        "in": "query",
                        "required": False,
                        "description": (
                            "The key of this page's open stream: the replies come in this "
                            "answer only, not again on that stream."
                        ),
                        "schema": _STREAM_KEY,
                    }
                ],
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
        "/api/webchat/{conversation}/stream": {"parameters": [_CREDENTIAL], **_STREAM},
        "/api/webchat/{conversation}/mydata.json": {"parameters": [_CREDENTIAL], **_MY_DATA},
    },
    "components": {"schemas": {"Message": _MESSAGE, "Error": _ERROR, "Action": _ACTION}},
}
