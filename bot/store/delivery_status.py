"""What a platform later reports about a message it accepted: delivered, read or failed.

Statuses only move forward (a late "delivered" never undoes "read"); a message unknown
here (another coach's, or one whose sending is still being recorded) is left alone.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.store.tables import OutboxRow
from bot.store.unit_of_work import Store

ORDER = ("sent", "delivered", "read")


class DeliveryStatus:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def record(
        self,
        channel: str,
        chat_id: str,
        platform_message_id: str,
        status: str,
        error: str | None = None,
    ) -> bool:
        """Mark the outbox row the platform knows by this id; whether one was found."""
        async with self.store.unit_of_work() as uow:
            query = select(OutboxRow).where(
                OutboxRow.channel == channel,
                OutboxRow.chat_id == chat_id,
                OutboxRow.platform_message_id == platform_message_id,
            )
            row = (await uow.session.scalars(query.limit(1))).first()
            if row is None:
                return False
            if status == "failed":
                row.status = "failed"
                row.last_error = (error or "failed")[:200]
            elif forward(row.status, status):
                row.status = status
        return True


def forward(old: str, new: str) -> bool:
    """Whether ``new`` is a later step than ``old`` (a failed row stays failed)."""
    return old in ORDER and new in ORDER and ORDER.index(new) > ORDER.index(old)
