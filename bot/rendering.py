"""Turn the core's replies into outbox rows in the learner's language."""

from __future__ import annotations

from datetime import datetime

from bot.core.effects import Reply
from bot.i18n import Catalogs
from bot.store.tables import OutboxRow


def numbered(index: int, label: str) -> str:
    """A button label that also says which number to type for it."""
    return f"{index}. {label}"


def render_reply(
    reply: Reply,
    catalogs: Catalogs,
    language: str,
    *,
    learner_id: int,
    channel: str,
    chat_id: str,
    inbound_key: str,
    index: int,
    now: datetime,
    pull: bool,
) -> OutboxRow:
    """One outbox row; ``pull`` channels (the web chat) fetch rows, so they count as sent."""
    text = "\n\n".join(catalogs.render(part, language) for part in reply.parts)
    buttons = [
        {"label": numbered(i, catalogs.render(choice.label, language)), "payload": choice.payload}
        for i, choice in enumerate(reply.choices, start=1)
    ]
    media = None
    if reply.media is not None:
        media = {"kind": reply.media.kind.value, "path": reply.media.path, "size": reply.media.size}
    return OutboxRow(
        learner_id=learner_id,
        channel=channel,
        chat_id=chat_id,
        text=text,
        buttons=buttons,
        media=media,
        tag=reply.tag,
        language=language,
        inbound_key=inbound_key,
        dedupe_key=f"{inbound_key}#{index}",
        status="sent" if pull else "pending",
        not_before=now,
        attempts=0,
        created_at=now,
        sent_at=now if pull else None,
    )
