"""Turn the core's replies into outbox rows in the learner's language, fit for the channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.channel import Capabilities, Destination
from bot.core.data_use import words
from bot.core.effects import Reply
from bot.core.lesson import picture_description
from bot.core.text import CourseText, Text, for_channel
from bot.course.chat_text import split_message
from bot.i18n import Catalogs
from bot.store.outbox import OutboxDraft

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
    channel: Capabilities

    def rows(
        self, replies: list[Reply], to: Destination, language: str, now: datetime
    ) -> list[OutboxDraft]:
        """The outbox rows for one event's replies (or one message of the coach's), in order."""
        rows: list[OutboxDraft] = []
        pressed = to.pressed_message_id if self.channel.can_edit else None
        for reply in replies:
            if reply.edit_only and pressed is None:
                continue
            labels = [self._say(choice.label, language) for choice in reply.choices]
            buttons = self.channel.fits_buttons(len(labels))
            text = "\n\n".join(self._say(part, language) for part in self._parts(reply))
            if labels and not buttons:
                text += "\n\n" + "\n".join(numbered(n, label) for n, label in enumerate(labels, 1))
            if self.catalogs.is_rtl(language):
                text = right_to_left(text)
            if not rows and to.group and to.first_name:
                text = f"{to.first_name}: {text}"
            pieces = split_message(text, self.channel.max_text) if self.channel.max_text else [text]
            for number, piece in enumerate(pieces):
                last = number == len(pieces) - 1
                row = self._row(to, language, now, len(rows), piece)
                row.buttons = self._buttons(reply, labels, language) if last and buttons else []
                row.media = self._media(reply, language) if number == 0 else None
                row.tag = reply.tag if last else None
                row.edit_message_id = pressed if reply.edit_pressed and len(pieces) == 1 else None
                if not rows and to.group:
                    row.reply_to_message_id = to.answers_message_id
                alt = row.media.get("alt") if row.media else None
                row.text_bytes = words(piece, [b["label"] for b in row.buttons], alt)
                rows.append(row)
        return rows

    def _buttons(self, reply: Reply, labels: list[str], language: str) -> list[dict[str, str]]:
        rtl = self.catalogs.is_rtl(language)
        most = self.channel.max_label
        buttons = []
        for number, (choice, text) in enumerate(zip(reply.choices, labels, strict=True), 1):
            label = numbered(number, text)
            if most is not None and len(label) > most:
                label = label[: most - 1] + "…"
            buttons.append(
                {"label": right_to_left(label) if rtl else label, "payload": choice.payload}
            )
        return buttons

    def _say(self, text: Text, language: str) -> str:
        """One text as this channel says it (its own variant), in the learner's language."""
        said = for_channel(text, self.channel.name, self.channel.receives)
        return "\n\n".join(self.catalogs.render(part, language) for part in said)

    def _parts(self, reply: Reply) -> tuple[Text, ...]:
        """The reply's texts, and a picture's description where the channel cannot send it."""
        media = reply.media
        if media is None or media.kind.value in self.channel.sends:
            return reply.parts
        described = picture_description(media)
        return reply.parts if described is None else (*reply.parts, described)

    def _media(self, reply: Reply, language: str) -> dict[str, Any] | None:
        media = reply.media
        if media is None or media.kind.value not in self.channel.sends:
            return None
        path, size = media.sent(self.channel.webp)  # the file this channel gets, as it is counted
        sent: dict[str, Any] = {"kind": media.kind.value, "path": path, "size": size}
        if path != media.path:
            sent["source"] = media.path  # the trainers' own file, for a phone without WebP
        if media.alt is not None and media.alt_context is not None:
            # For the web chat's alt text, and a channel that says the picture in words.
            sent["alt"] = self._say(CourseText(media.alt_context, media.alt), language)
        return sent

    def _row(
        self, to: Destination, language: str, now: datetime, index: int, text: str
    ) -> OutboxDraft:
        pull = self.channel.pull
        return OutboxDraft(
            learner_id=to.learner_id,
            channel=self.channel.name,
            chat_id=to.chat_id,
            text=text,
            language=language,
            inbound_key=to.key,
            dedupe_key=f"{to.key}#{index}",
            status="sent" if pull else "pending",
            not_before=now,
            attempts=0,
            created_at=now,
            sent_at=now if pull else None,
        )
