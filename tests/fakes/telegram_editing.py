"""Bot API methods that change or remove a message already in a chat."""

from __future__ import annotations

import copy

from .telegram_objects import JSON, Edit, SentMessage
from .telegram_protocol import bad_request, optional_json, required, required_int
from .telegram_sending import Handler, SendingMethods, inline_markup, shown_text

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


class EditingMethods:
    def __init__(self, sending: SendingMethods) -> None:
        self.sending = sending
        self.state = sending.state

    def handlers(self) -> dict[str, Handler]:
        return {
            "editMessageText": self.edit_text,
            "editMessageCaption": self.edit_caption,
            "editMessageReplyMarkup": self.edit_reply_markup,
            "deleteMessage": self.delete_message,
        }

    def _editable(self, params: JSON) -> SentMessage:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the fake server")
        log = self.sending.target(params)
        message_id = required_int(params, "message_id")
        if message_id not in log.messages:
            raise bad_request("message to edit not found")
        sent = log.sent_message(message_id)
        if sent is None:
            raise bad_request("message can't be edited")
        return sent

    def _apply(self, sent: SentMessage, method: str, content: JSON, markup: JSON | None) -> JSON:
        message = sent.message
        inline = inline_markup(markup)
        current = {key: message.get(key) for key in content}
        if current == content and message.get("reply_markup") == inline:
            raise bad_request(NOT_MODIFIED)
        for key, value in content.items():
            if value:
                message[key] = value
            else:
                message.pop(key, None)
        if inline:
            message["reply_markup"] = inline
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = self.state.now()
        sent.reply_markup = markup
        sent.edits.append(Edit(method, sent.text, markup))
        self.state.changed.fire()
        return copy.deepcopy(message)

    async def edit_text(self, params: JSON) -> JSON:
        sent = self._editable(params)
        if sent.kind != "text":
            raise bad_request("there is no text in the message to edit")
        source = required(params, "text", "message text is empty")
        text, entities = shown_text(
            str(source), params.get("parse_mode"), 4096, "message is too long"
        )
        content: JSON = {"text": text, "entities": entities or None}
        sent.parse_mode = params.get("parse_mode") or None
        markup = optional_json(params, "reply_markup")
        return self._apply(sent, "editMessageText", content, markup)

    async def edit_caption(self, params: JSON) -> JSON:
        sent = self._editable(params)
        if sent.kind == "text":
            raise bad_request("there is no caption in the message to edit")
        text, entities = shown_text(
            str(params.get("caption") or ""),
            params.get("parse_mode"),
            1024,
            "message caption is too long",
        )
        content: JSON = {"caption": text or None, "caption_entities": entities or None}
        markup = optional_json(params, "reply_markup")
        return self._apply(sent, "editMessageCaption", content, markup)

    async def edit_reply_markup(self, params: JSON) -> JSON:
        sent = self._editable(params)
        markup = optional_json(params, "reply_markup")
        return self._apply(sent, "editMessageReplyMarkup", {}, markup)

    async def delete_message(self, params: JSON) -> bool:
        log = self.sending.target(params)
        message_id = required_int(params, "message_id")
        if log.messages.pop(message_id, None) is None:
            raise bad_request("message to delete not found")
        sent = log.sent_message(message_id)
        if sent is not None:
            sent.deleted = True
        self.state.changed.fire()
        return True
