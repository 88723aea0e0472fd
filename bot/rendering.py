"""Turn the core's replies into outbox rows in the learner's language, fit for the channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.chat_text import split_message
from bot.core.effects import Reply
from bot.core.events import Inbound
from bot.i18n import Catalogs
from bot.store.tables import OutboxRow


@dataclass(frozen=True)
class ChannelInfo:
    """What a channel can do.

    ``pull``: the client fetches its messages (the web chat), so they count as sent at once;
    ``can_edit``: a message can be changed after it was sent; ``max_text``: the longest text.
    """

    name: str
    pull: bool = False
    can_edit: bool = False
    max_text: int | None = None


RLM = "\u200f"


def right_to_left(text: str) -> str:
    """Start every line with a right-to-left mark, so a line that begins with a number, a
    web address or a Latin name still reads right to left in chat apps."""
    return "\n".join(
        RLM + line if line and not line.startswith(RLM) else line for line in text.split("\n")
    )


def numbered(index: int, label: str) -> str:
    """A button label that also says which number to type for it."""
    return f"{index}. {label}"


@dataclass(frozen=True)
class Renderer:
    catalogs: Catalogs
    channel: ChannelInfo

    def rows(
        self,
        replies: list[Reply],
        event: Inbound,
        language: str,
        learner_id: int | None,
        now: datetime,
    ) -> list[OutboxRow]:
        """The outbox rows for one event's replies, in order."""
        rows: list[OutboxRow] = []
        pressed = event.pressed_message_id if self.channel.can_edit else None
        for reply in replies:
            if reply.edit_only and pressed is None:
                continue
            text = "\n\n".join(self.catalogs.render(part, language) for part in reply.parts)
            if self.catalogs.is_rtl(language):
                text = right_to_left(text)
            if not rows and event.sender.group and event.sender.first_name:
                text = f"{event.sender.first_name}: {text}"
            pieces = split_message(text, self.channel.max_text) if self.channel.max_text else [text]
            for number, piece in enumerate(pieces):
                last = number == len(pieces) - 1
                row = self._row(event, learner_id, language, now, len(rows), piece)
                row.buttons = self._buttons(reply, language) if last else []
                row.media = _media(reply) if number == 0 else None
                row.tag = reply.tag if last else None
                row.edit_message_id = pressed if reply.edit_pressed and len(pieces) == 1 else None
                if not rows and event.sender.group:
                    row.reply_to_message_id = event.message_id
                rows.append(row)
        return rows

    def _buttons(self, reply: Reply, language: str) -> list[dict[str, str]]:
        rtl = self.catalogs.is_rtl(language)
        buttons = []
        for number, choice in enumerate(reply.choices, start=1):
            label = numbered(number, self.catalogs.render(choice.label, language))
            buttons.append(
                {"label": right_to_left(label) if rtl else label, "payload": choice.payload}
            )
        return buttons

    def _row(
        self,
        event: Inbound,
        learner_id: int | None,
        language: str,
        now: datetime,
        index: int,
        text: str,
    ) -> OutboxRow:
        pull = self.channel.pull
        return OutboxRow(
            learner_id=learner_id,
            channel=self.channel.name,
            chat_id=event.sender.chat_id,
            text=text,
            language=language,
            inbound_key=event.key,
            dedupe_key=f"{event.key}#{index}",
            status="sent" if pull else "pending",
            not_before=now,
            attempts=0,
            created_at=now,
            sent_at=now if pull else None,
        )


def _media(reply: Reply) -> dict[str, Any] | None:
    if reply.media is None:
        return None
    return {"kind": reply.media.kind.value, "path": reply.media.path, "size": reply.media.size}
