"""What the bot did, as tests read it: messages per chat, API calls, callbacks, commands."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from .telegram_objects import (
    JSON,
    AnsweredCallback,
    ApiCall,
    Chat,
    FileRecord,
    SentMessage,
    WebhookState,
    chat_id_of,
)
from .telegram_state import TelegramState


class TelegramRecords:
    """Read-only views of the fake's state, and waits for the bot to catch up."""

    state: TelegramState

    def sent(self, chat: int | Chat) -> list[SentMessage]:
        """Messages the bot sent to the chat, oldest first, edits applied (deleted ones flagged)."""
        log = self.state.chats.get(chat_id_of(chat))
        return list(log.sent) if log else []

    def last_text(self, chat: int | Chat) -> str | None:
        live = [m for m in self.sent(chat) if not m.deleted]
        return live[-1].text if live else None

    def calls(self, method: str | None = None) -> list[ApiCall]:
        return [c for c in self.state.calls if method is None or c.method.lower() == method.lower()]

    @property
    def answered_callbacks(self) -> list[AnsweredCallback]:
        return list(self.state.answered_callbacks)

    @property
    def commands(self) -> dict[tuple[str, str], list[JSON]]:
        """setMyCommands as it stands, keyed by (scope, language_code): ("default", "fr")."""
        return copy.deepcopy(self.state.commands)

    @property
    def webhook(self) -> WebhookState:
        return self.state.webhook

    @property
    def count_429(self) -> int:
        return self.state.count_429

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates queued and not yet confirmed by a getUpdates offset."""
        return list(self.state.updates)

    def done_with(self, update: JSON) -> bool:
        """The bot confirmed this update (it asked for updates after it), or Telegram never
        gave it to the bot (a kind the bot did not ask for)."""
        update_id = update["update_id"]
        return update_id < self.state.confirmed_below or update_id in self.state.never_delivered

    def take_updates(self) -> list[JSON]:
        """Remove and return the queued updates, as a webhook delivery would."""
        updates, self.state.updates = self.state.updates, []
        return updates

    @property
    def files(self) -> dict[str, FileRecord]:
        return dict(self.state.files)

    async def wait_until(self, condition: Callable[[], Any], within: float = 5.0) -> None:
        """Wait until condition() holds; it is re-checked after every call and queued update."""
        if not await self.state.changed.wait_until(lambda: bool(condition()), within):
            raise TimeoutError(f"still not true after {within} s: {condition}")

    async def wait_for_sent(
        self, chat: int | Chat, count: int = 1, within: float = 5.0
    ) -> list[SentMessage]:
        """Wait until the bot has sent at least count messages to the chat; return them all."""
        if not await self.state.changed.wait_until(lambda: len(self.sent(chat)) >= count, within):
            got = [m.text for m in self.sent(chat)]
            raise TimeoutError(f"expected {count} message(s) to {chat_id_of(chat)}, got {got}")
        return self.sent(chat)
