"""WhatsApp's 24-hour window: free-form messages only within 24 hours of the learner's last
message (``Learner.last_seen_at``); after that, only approved templates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.channels.whatsapp.inbound import CHANNEL
from bot.store.tables import Learner
from bot.store.unit_of_work import Store

WINDOW = timedelta(hours=24)
# The coach stores a message a moment after WhatsApp received it: close a little early
# rather than have a message refused.
MARGIN = timedelta(minutes=2)
REMEMBERED = 10_000  # learners whose open window is kept in memory


class ConversationWindow:
    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock
        # A learner's window only moves later: once seen open, it is open until then.
        self._open_until: dict[str, datetime] = {}

    async def is_open(self, chat_id: str) -> bool:
        """Whether a free-form message may go to this chat now."""
        now = self.clock()
        known = self._open_until.get(chat_id)
        if known is not None and now < known:
            return True
        self._open_until.pop(chat_id, None)
        async with self.store.unit_of_work() as uow:
            last = await uow.session.scalar(
                select(func.max(Learner.last_seen_at)).where(
                    Learner.channel == CHANNEL.name, Learner.chat_id == chat_id
                )
            )
        if last is None:
            return False
        if last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        until = last + WINDOW - MARGIN
        if now >= until:
            return False
        if len(self._open_until) >= REMEMBERED:
            self._open_until.clear()
        self._open_until[chat_id] = until
        return True
