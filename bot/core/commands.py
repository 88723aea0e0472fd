"""One command grammar for every channel: ``/word``, ``/word@bot`` and an argument."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.events import Inbound, InboundKind, Sender

_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?(?:\s+(.*))?$", re.S)


@dataclass(frozen=True)
class Command:
    name: str
    argument: str | None = None
    mention: str | None = None

    def meant_for(self, own_name: str | None) -> bool:
        """False when the command names another bot (``/start@other_bot`` in a group)."""
        return self.mention is None or own_name is None or self.mention.lower() == own_name.lower()


def parse_command(text: str) -> Command | None:
    """The command in a typed message, or None when it is ordinary text."""
    found = _COMMAND.match(text.strip())
    if found is None:
        return None
    argument = found.group(3).strip() if found.group(3) else None
    return Command(found.group(1).lower(), argument or None, found.group(2))


def typed_event(
    sender: Sender,
    key: str,
    text: str,
    at: datetime,
    *,
    own_name: str | None = None,
    **fields: Any,
) -> Inbound | None:
    """The core event for typed text: a command or text; None for another bot's command."""
    command = parse_command(text)
    if command is None:
        return Inbound(sender, InboundKind.TEXT, at, key, text=text, **fields)
    if not command.meant_for(own_name):
        return None
    return Inbound(
        sender,
        InboundKind.COMMAND,
        at,
        key,
        text=text,
        command=command.name,
        argument=command.argument,
        **fields,
    )
