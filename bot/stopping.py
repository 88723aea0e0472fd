"""Bounded stops: let tasks finish for a while, then cancel them, then wait a little more.

A stop never waits for ever: what does not end when cancelled is logged and left behind.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from typing import Any

log = logging.getLogger(__name__)

CANCEL_SECONDS = 5.0


async def finish(
    tasks: Collection[asyncio.Task[Any]],
    what: str,
    grace: float,
    cancel_wait: float = CANCEL_SECONDS,
) -> None:
    """Wait at most ``grace`` seconds for ``tasks``; cancel the rest and wait at most
    ``cancel_wait`` for them; log failures and whatever is still running."""
    tasks = list(tasks)
    try:
        await _finish(tasks, what, grace, cancel_wait)
    except asyncio.CancelledError:  # the stop itself was cancelled: do not leave them behind
        for task in tasks:
            task.cancel()
        raise
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.error("%s failed", what, exc_info=task.exception())


async def _finish(
    tasks: list[asyncio.Task[Any]], what: str, grace: float, cancel_wait: float
) -> None:
    pending = {task for task in tasks if not task.done()}
    if pending and grace > 0:
        _, pending = await asyncio.wait(pending, timeout=grace)
        if pending:
            log.warning("%d %s still running after %.1f s; cancelling", len(pending), what, grace)
    if pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=cancel_wait)
    if pending:
        log.error("%d %s did not stop within %.1f s of cancelling", len(pending), what, cancel_wait)


async def cancel(tasks: Collection[asyncio.Task[Any]], what: str) -> None:
    """Cancel tasks that only wait (a poll loop) and wait a bounded time for them to end."""
    await finish(tasks, what, grace=0.0)
