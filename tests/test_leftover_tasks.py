"""A task that will not end when cancelled fails the test that left it, within a bound,
instead of hanging the whole run."""

from __future__ import annotations

import asyncio

import pytest

from tests import leftover_tasks


def test_a_task_that_ignores_cancellation_is_named_within_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(leftover_tasks, "LEFTOVER_SECONDS", 0.2)

    async def stubborn() -> None:
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue  # refuses to end

    async def leaves_it_behind() -> None:
        asyncio.get_running_loop().create_task(stubborn(), name="stubborn")
        await asyncio.sleep(0)

    runner = asyncio.Runner()
    try:
        runner.run(leaves_it_behind())
        with pytest.raises(leftover_tasks.TaskWouldNotEnd, match="stubborn"):
            runner.close()
    finally:
        runner.close()


def test_tasks_that_end_when_cancelled_close_quietly() -> None:
    async def waits() -> None:
        asyncio.get_running_loop().create_task(asyncio.sleep(3600))
        await asyncio.sleep(0)

    with asyncio.Runner() as runner:
        runner.run(waits())  # closing cancels the sleep, which ends: nothing raised
