"""Long polling that confirms an update to Telegram only once it was handled.

Each ``getUpdates`` asks from the first update not yet handled (its ``offset`` confirms the
ones before). The updates fetched together are handled chat by chat, each chat's in order
and several chats at once, so one learner's turn waiting for the database does not hold up
the others; an update left unhandled holds back the confirmation of those after it, which
are then fetched again and recognised as done. When the database cannot be reached, the
loop waits (longer each time, up to half a minute) and asks again from the same offset:
Telegram keeps the update meanwhile. A stop lets the updates in hand finish and leaves the
rest with Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from sqlalchemy.exc import DBAPIError

from bot.services.coach import UNREACHABLE, Unavailable
from bot.stopping import cancel, finish
from bot.tracebacks import without_messages

log = logging.getLogger(__name__)
POLL_SECONDS = 10  # how long one getUpdates may wait for an update
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
CONFIRM_SECONDS = 2.0
TASK = "telegram polling"  # its chats' tasks are named after it
CHATS_AT_ONCE = 16  # chats handled side by side (each holds a database connection a while)
# Handling failed for want of the database: the update is fetched again later.
NOT_YET = (Unavailable, DBAPIError, *UNREACHABLE)

Fetch = Callable[[int | None, int], Coroutine[Any, Any, Sequence[Any]]]
"""``getUpdates`` from an offset (None: from the first one kept), waiting some seconds."""


class Polling:
    def __init__(
        self,
        fetch: Fetch,
        process: Callable[[Any], Awaitable[None]],
        *,
        chats_at_once: int = CHATS_AT_ONCE,
    ) -> None:
        """``process`` handles one fetched update (anything with an ``update_id``)."""
        self.fetch = fetch
        self.process = process
        self.chats_at_once = chats_at_once
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=TASK)

    async def stop(self, grace: float) -> None:
        """Stop asking; the update being handled gets ``grace`` seconds to finish."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            await finish([task], "telegram polling", grace)

    async def _run(self) -> None:
        offset: int | None = None
        failures = 0
        while not self._stopping.is_set():
            updates = await self._fetch(offset)
            if updates is None:
                failures += 1
                await self._pause(failures)
                continue
            handled = await self._handle_all(updates)
            if handled:
                offset, failures = updates[handled - 1].update_id + 1, 0
            if handled < len(updates) and not self._stopping.is_set():
                failures += 1
                await self._pause(failures)
        await self._confirm(offset)

    async def _handle_all(self, updates: Sequence[Any]) -> int:
        """Handle the updates, each chat's in order and chats side by side; how many of them,
        from the first, were all handled (a stop leaves the rest with Telegram)."""
        chats: dict[object, list[tuple[int, Any]]] = {}
        for index, update in enumerate(updates):
            chats.setdefault(chat_of(update), []).append((index, update))
        done = [False] * len(updates)
        slots = asyncio.Semaphore(self.chats_at_once)

        async def one_chat(items: list[tuple[int, Any]]) -> None:
            async with slots:
                for index, update in items:
                    if self._stopping.is_set() or not await self._handle(update):
                        return  # this chat's later updates wait for it
                    done[index] = True

        named = f"{TASK}: a chat"
        tasks = [asyncio.create_task(one_chat(items), name=named) for items in chats.values()]
        await asyncio.gather(*tasks)
        return done.index(False) if False in done else len(done)

    async def _handle(self, update: Any) -> bool:
        """False when the update must be fetched again later."""
        try:
            await self.process(update)
        except NOT_YET as error:
            log.warning("update %d not handled (%s); kept", update.update_id, type(error).__name__)
            return False
        except Exception as error:
            log.error("update %d failed; skipped\n%s", update.update_id, without_messages(error))
        return True

    async def _fetch(self, offset: int | None) -> Sequence[Any] | None:
        """The next updates; empty when stopping, None when Telegram could not be reached."""
        fetching: asyncio.Task[Sequence[Any]] = asyncio.create_task(
            self.fetch(offset, POLL_SECONDS)
        )
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            await asyncio.wait((fetching, stopping), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not fetching.done():
                fetching.cancel()
        if not fetching.done() or fetching.cancelled():
            await cancel([fetching], "telegram getUpdates")
            return []
        error = fetching.exception()
        if error is not None:
            log.warning("getUpdates failed: %s", type(error).__name__)
            return None
        updates: Sequence[Any] = fetching.result()
        return updates

    async def _pause(self, failures: int) -> None:
        """Wait before trying again, longer each time; a stop ends the wait."""
        delay = RETRY_DELAYS[min(failures, len(RETRY_DELAYS)) - 1]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._stopping.wait()

    async def _confirm(self, offset: int | None) -> None:
        """Tell Telegram which updates were handled, so a restart does not fetch them again."""
        if offset is None:
            return
        try:
            async with asyncio.timeout(CONFIRM_SECONDS):
                await self.fetch(offset, 0)
        except Exception as error:  # a restart fetches them again; they are handled once
            log.info("handled updates not confirmed: %s", type(error).__name__)


def chat_of(update: Any) -> object:
    """The chat an update of aiogram or python-telegram-bot is about (its messages are handled
    in order); updates of another kind share one line, in order too."""
    for kind in ("message", "edited_message", "my_chat_member", "chat_member"):
        item = getattr(update, kind, None)
        chat = getattr(item, "chat", None)
        if chat is not None:
            return chat.id
    query = getattr(update, "callback_query", None)
    if query is not None:
        chat = getattr(getattr(query, "message", None), "chat", None)
        return chat.id if chat is not None else ("user", query.from_user.id)
    return None
