"""New messages pushed to an open chat page as server-sent events, instead of polling.

An idle stream costs a two-byte heartbeat a minute. A stream learns of new outbox rows
for its conversation at once when this process commits them (a session event); on
PostgreSQL other processes announce theirs (NOTIFY, heard by LISTEN), and a database check
every ``check_seconds`` finds whatever was missed (on SQLite, the only way for another
process's rows). Streams are bounded: a few per conversation (the oldest gives way), a
limit per client address and in all; each ends after ``lifetime_beats`` heartbeats, when
the page stops reading for 30 s, and at once when the coach stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from bot.core.text import Np_
from bot.services.coach import Unavailable
from bot.store.outbox_notices import announce, hearing
from bot.store.tables import OutboxRow
from bot.store.unit_of_work import Store
from bot.web.bodies import Refused

log = logging.getLogger(__name__)
BUSY_SECONDS = 60


def too_many(seconds: int = BUSY_SECONDS) -> Refused:
    """The sentence a client over a rate limit gets (already in every catalog)."""
    wait = Np_(
        "Too many requests in a short time. Please wait {n} second and try again.",
        "Too many requests in a short time. Please wait {n} seconds and try again.",
        seconds,
    )
    return Refused(wait, 429, retry_after=seconds)


PENDING = "coach.web_stream.pending"


class StreamSettings(BaseSettings):
    """``COACH_WEB_STREAM_*``: how streams keep alive and how many there may be."""

    model_config = SettingsConfigDict(
        env_prefix="COACH_WEB_STREAM_", env_file=".env", extra="ignore", env_ignore_empty=True
    )

    heartbeat_seconds: float = 60.0
    check_seconds: float = 25.0
    lifetime_beats: int = 30
    retry_ms: int = 3000
    per_conversation: int = 3
    per_client: int = 30
    total: int = 2000


_WATCHING: weakref.WeakSet[Streams] = weakref.WeakSet()  # the Streams with open streams


def _flushed(session: Session, context: Any) -> None:
    for streams in list(_WATCHING):
        streams.flushed(session)


def _committed(session: Session) -> None:
    for streams in list(_WATCHING):
        streams.committed(session)


def _rolled_back(session: Session) -> None:
    for streams in list(_WATCHING):
        streams.rolled_back(session)


# Registered once, at import, and never removed: SQLAlchemy walks a listener list while it
# calls it, and an announcement's query (bot/store/outbox_notices.py) lets other tasks run
# meanwhile, so adding or removing a listener then (a stream that opens or ends) would break
# that walk. Which Streams care is kept apart, in _WATCHING, copied before it is walked.
for _name, _listener in (
    ("after_flush", _flushed),
    ("after_commit", _committed),
    ("after_rollback", _rolled_back),
):
    if not event.contains(Session, _name, _listener):
        event.listen(Session, _name, _listener)


@dataclass(eq=False)
class Stream:
    """One open stream: where it stands, and a flag raised when there may be news."""

    chat_id: str
    client: str
    key: str | None
    after: int
    news: asyncio.Event = field(default_factory=asyncio.Event)
    held: int = 0
    ended: bool = False

    def wake(self) -> None:
        if not self.held:
            self.news.set()

    def end(self) -> None:
        self.ended = True
        self.news.set()


class Streams:
    """The open streams of one process for one channel, and what wakes them."""

    def __init__(self, store: Store, channel: str, settings: StreamSettings) -> None:
        self.store = store
        self.channel = channel
        self.settings = settings
        self.stopping = False
        self._by_chat: dict[str, list[Stream]] = {}
        self._by_client: dict[str, int] = {}
        self._count = 0
        self._check: asyncio.Task[None] | None = None
        self._checks: set[asyncio.Task[None]] = set()  # cancelled, until they have ended
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending = f"{PENDING}.{id(self)}"  # each instance its own, in a shared session
        self._listening: asyncio.Task[None] | None = None
        announce(channel)

    @contextlib.contextmanager
    def open(self, chat_id: str, client: str, key: str | None, after: int) -> Iterator[Stream]:
        """A stream for this conversation while the block runs; Refused (429) over a limit."""
        if self.stopping or self._count >= self.settings.total:
            raise Unavailable("no more streams")
        if self._by_client.get(client, 0) >= self.settings.per_client:
            raise too_many()
        same = self._by_chat.setdefault(chat_id, [])
        while len(same) >= self.settings.per_conversation:
            same.pop(0).end()  # most likely a page that went away without a word
        stream = Stream(chat_id, client, key, after)
        same.append(stream)
        self._by_client[client] = self._by_client.get(client, 0) + 1
        self._count += 1
        if self._count == 1:
            self._start_watching()
        try:
            yield stream
        finally:
            if stream in same:
                same.remove(stream)
            if not same and self._by_chat.get(chat_id) is same:
                del self._by_chat[chat_id]
            self._by_client[client] -= 1
            if not self._by_client[client]:
                del self._by_client[client]
            self._count -= 1
            if not self._count:
                self._stop_watching()

    @property
    def count(self) -> int:
        return self._count

    def wake(self, chat_ids: set[str]) -> None:
        for chat_id in chat_ids:
            for stream in self._by_chat.get(chat_id, ()):
                stream.wake()

    @contextlib.contextmanager
    def answering(self, chat_id: str, key: str | None) -> Iterator[list[int]]:
        """While the page that holds stream ``key`` is answered directly, that stream waits;
        the ids answered (appended to the list) are not sent on it again."""
        stream = next((s for s in self._by_chat.get(chat_id, ()) if key and s.key == key), None)
        answered: list[int] = []
        if stream is None:
            yield answered
            return
        stream.held += 1
        try:
            yield answered
        finally:
            stream.held -= 1
            stream.after = max([stream.after, *answered])
            if not stream.held:
                stream.news.set()

    def stop(self) -> None:
        """End every stream now (the coach is stopping)."""
        self.stopping = True
        for same in self._by_chat.values():
            for stream in same:
                stream.end()

    def _start_watching(self) -> None:
        self._loop = asyncio.get_running_loop()
        _WATCHING.add(self)
        self._check = asyncio.create_task(self._check_database())
        if self.store.engine.dialect.name == "postgresql":
            self._listening = asyncio.create_task(self._listen())

    def _stop_watching(self) -> None:
        _WATCHING.discard(self)
        for task in (self._check, self._listening):
            if task is not None:
                task.cancel()
                self._checks.add(task)
                task.add_done_callback(self._checks.discard)
        self._check = self._listening = None

    async def close(self) -> None:
        """End every stream, and wait for the database check to end."""
        self.stop()
        running = [t for t in (self._check, self._listening) if t is not None]
        for task in [*self._checks, *running]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _ours(self, session: Session) -> bool:
        return session.bind is self.store.engine.sync_engine

    def flushed(self, session: Session) -> None:
        if not self._ours(session):
            return
        chats = {
            row.chat_id
            for row in session.new
            if isinstance(row, OutboxRow) and row.channel == self.channel
        }
        if chats:
            session.info.setdefault(self._pending, set()).update(chats)

    def committed(self, session: Session) -> None:
        chats = session.info.pop(self._pending, None)
        if chats and self._loop is not None:
            self._loop.call_soon_threadsafe(self.wake, chats)

    def rolled_back(self, session: Session) -> None:
        session.info.pop(self._pending, None)

    async def _listen(self) -> None:
        """PostgreSQL: hear at once of rows other processes write, while streams are open; if
        the connection is lost, the check goes on meanwhile."""
        engine, every = self.store.engine, self.settings.check_seconds
        async with hearing(engine, lambda chat_id: self.wake({chat_id}), retry_seconds=every):
            await asyncio.Event().wait()  # until cancelled

    async def _check_database(self) -> None:
        """Rows another process wrote: one query for every open conversation, now and then."""
        while True:
            every = self.settings.check_seconds
            await asyncio.sleep(every * random.uniform(0.8, 1.2))
            chats = list(self._by_chat)[:1000]
            if not chats:
                continue
            try:
                async with self.store.unit_of_work() as uow:
                    found = await uow.session.execute(
                        select(OutboxRow.chat_id, func.max(OutboxRow.id))
                        .where(OutboxRow.channel == self.channel, OutboxRow.chat_id.in_(chats))
                        .group_by(OutboxRow.chat_id)
                    )
                    newest = {chat_id: last for chat_id, last in found}
            except Exception as error:  # a database away now and then: the next check retries
                log.info("web stream check failed: %s", type(error).__name__)
                continue
            for chat_id, last in newest.items():
                for stream in self._by_chat.get(chat_id, ()):
                    if last > stream.after:
                        stream.wake()


class Stopping:
    """Set when the web app shuts down, so that open streams end at once."""

    def __init__(self) -> None:
        self.stopped = False
        self.watched: list[Streams] = []

    def watch(self, streams: Streams) -> None:
        if streams not in self.watched:
            self.watched.append(streams)
        if self.stopped:
            streams.stop()

    async def stop(self, _app: web.Application) -> None:
        self.stopped = True
        for streams in self.watched:
            await streams.close()


STOPPING = web.AppKey("stopping", Stopping)


def event_bytes(last_id: int, data: str) -> bytes:
    return f"id: {last_id}\ndata: {data}\n\n".encode()


def opening_bytes(settings: StreamSettings) -> bytes:
    """The first bytes: the reconnection delay, and the heartbeat (a comment the page's
    watchdog reads)."""
    return f"retry: {settings.retry_ms}\n: {settings.heartbeat_seconds:g}\n\n".encode()


HEARTBEAT = b":\n"
