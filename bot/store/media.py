"""Channel file ids of lesson media, so each file is uploaded once per channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.store.tables import MediaFile
from bot.store.unit_of_work import Store


class MediaCache:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def file_id(self, channel: str, path: str, size: int) -> str | None:
        """The id of an earlier upload of this file, unless the file changed since."""
        async with self.store.reading() as uow:
            row = await uow.session.get(MediaFile, (channel, path))
        return row.file_id if row is not None and row.size == size else None

    async def remember(
        self,
        channel: str,
        path: str,
        size: int,
        file_id: str,
        now: datetime,
        kept_size: int | None = None,
    ) -> None:
        """An upload's id; ``kept_size``: the file's size as the channel keeps it, if told."""
        row = MediaFile(
            channel=channel,
            path=path,
            size=size,
            file_id=file_id,
            created_at=now,
            kept_size=kept_size,
        )
        async with self.store.unit_of_work() as uow:
            await uow.session.merge(row)

    async def kept_sizes(self, channel: str) -> dict[str, tuple[int, int]]:
        """For each file the channel told the size of: its size then, and the kept size."""
        async with self.store.reading() as uow:
            found = await uow.session.execute(
                select(MediaFile.path, MediaFile.size, MediaFile.kept_size).where(
                    MediaFile.channel == channel, MediaFile.kept_size.is_not(None)
                )
            )
            return {path: (size, kept) for path, size, kept in found if kept is not None}
