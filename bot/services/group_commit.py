"""Group commit: what arrives while a batch is being handled goes together in the next one.

Nothing waits for company: an item that finds the way free starts a batch of its own at
once; items that come meanwhile queue, and the next batch takes them all, up to ``most``.
So a quiet coach answers as fast as before and a busy one commits once for many events.

Items of one ``lane`` (one learner) go one per batch, in the order they came: a second
event of the same learner waits for the next batch, and so do the learner's later ones.

With ``workers`` above one, that many batches may be in their transactions at once (on
PostgreSQL, one batch's statements travel while another's turns are worked out); a lane
with an item in a batch in flight gives no other item to another batch until it is done.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def _retrieved(future: asyncio.Future[Any]) -> None:
    """Marks an exception as seen: its caller may have stopped waiting (a client gone)."""
    if not future.cancelled():
        future.exception()


class GroupCommit(Generic[T, R]):
    """Runs ``run`` on batches of submitted items, one batch at a time."""

    def __init__(
        self,
        run: Callable[[list[T]], Awaitable[list[R | Exception]]],
        lane: Callable[[T], Hashable],
        most: int = 64,
        name: str = "group commit",
        workers: int = 1,
    ) -> None:
        self.run = run
        self.lane = lane
        self.most = most
        self.name = name
        self.workers = workers
        self._waiting: deque[tuple[T, asyncio.Future[R]]] = deque()
        self._running: set[asyncio.Task[None]] = set()
        self._busy: set[Hashable] = set()  # the lanes of the batches in flight
        self._loop: asyncio.AbstractEventLoop | None = None
        self.batches = 0  # how many batches ran, and how many items they took
        self.items = 0

    async def submit(self, item: T) -> R:
        """The item's result once its batch is done. A caller that stops waiting (cancelled)
        does not stop the batch: the item is handled all the same."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (tests): what the old one held is gone
            self._loop, self._waiting, self._running, self._busy = loop, deque(), set(), set()
        future: asyncio.Future[R] = loop.create_future()
        future.add_done_callback(_retrieved)
        self._waiting.append((item, future))
        if sum(not worker.done() for worker in self._running) < self.workers:
            worker = loop.create_task(self._work(), name=self.name)
            self._running.add(worker)
            worker.add_done_callback(self._running.discard)
        return await asyncio.shield(future)

    def _take(self) -> list[tuple[T, asyncio.Future[R]]]:
        """The next batch: the oldest waiting items, one per lane, at most ``most``, none of
        a lane in flight; their lanes are then in flight."""
        batch: list[tuple[T, asyncio.Future[R]]] = []
        lanes: set[Hashable] = set()
        later: deque[tuple[T, asyncio.Future[R]]] = deque()
        while self._waiting and len(batch) < self.most:
            waiting = self._waiting.popleft()
            lane = self.lane(waiting[0])
            if lane in lanes or lane in self._busy:
                later.append(waiting)
            else:
                lanes.add(lane)
                batch.append(waiting)
        self._waiting.extendleft(reversed(later))
        self._busy |= lanes
        return batch

    async def _work(self) -> None:
        while batch := self._take():
            self.batches += 1
            self.items += len(batch)
            try:
                outcomes = await self.run([item for item, _ in batch])
            except asyncio.CancelledError:  # shutting down: nothing more is handled
                for _, future in (*batch, *self._waiting):
                    future.cancel()
                self._waiting.clear()
                raise
            except Exception as error:  # a fault in ``run``: its items end with it
                outcomes = [error] * len(batch)
            finally:
                self._busy -= {self.lane(item) for item, _ in batch}
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
