"""Bounded stops: a task that will not stop is logged and left behind, never waited for ever."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.stopping import finish


async def test_a_task_that_finishes_in_time_is_waited_for_not_cancelled() -> None:
    done = asyncio.Event()

    async def work() -> str:
        await asyncio.sleep(0)
        done.set()
        return "finished"

    task = asyncio.create_task(work())
    await finish([task], "jobs", grace=10.0)
    assert done.is_set() and task.result() == "finished"


async def test_a_task_that_swallows_its_cancellation_does_not_hold_the_stop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while True:
            try:
                await release.wait()
                return
            except asyncio.CancelledError:
                continue  # the very bug a stop must survive

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    with caplog.at_level(logging.WARNING, logger="bot.stopping"):
        await finish([task], "stubborn jobs", grace=0.01, cancel_wait=0.01)

    assert not task.done()
    assert "1 stubborn jobs still running" in caplog.text
    assert "1 stubborn jobs did not stop" in caplog.text
    release.set()
    await task


async def test_a_task_that_failed_is_logged_with_its_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken() -> None:
        raise RuntimeError("lost the database")

    task = asyncio.create_task(broken())
    with caplog.at_level(logging.ERROR, logger="bot.stopping"):
        await finish([task], "outbox sender", grace=10.0)
    assert "outbox sender failed" in caplog.text and "lost the database" in caplog.text
