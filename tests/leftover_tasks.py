"""Each test's event loop is closed by cancelling the tasks it left running and waiting for
them. asyncio waits without a bound, so one task that does not end when cancelled would hang
the whole run until pytest-timeout ends the process, with every later result lost. This waits
at most ``LEFTOVER_SECONDS`` and then fails the test that left the task, naming it and where
it waits."""

from __future__ import annotations

import asyncio
import asyncio.runners
import io

LEFTOVER_SECONDS = 10.0


class TaskWouldNotEnd(RuntimeError):
    pass


def _where(task: asyncio.Task[object]) -> str:
    out = io.StringIO()
    task.print_stack(limit=8, file=out)
    return out.getvalue()


def cancel_all_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """As asyncio's own, with a bound on the wait."""
    leftover = asyncio.all_tasks(loop)
    if not leftover:
        return
    for task in leftover:
        task.cancel()
    _, pending = loop.run_until_complete(asyncio.wait(leftover, timeout=LEFTOVER_SECONDS))
    for task in leftover - pending:
        if not task.cancelled() and task.exception() is not None:
            loop.call_exception_handler(
                {
                    "message": "unhandled exception during asyncio.run() shutdown",
                    "exception": task.exception(),
                    "task": task,
                }
            )
    if pending:
        stacks = "\n".join(_where(task) for task in pending)
        raise TaskWouldNotEnd(
            f"{len(pending)} task(s) still running {LEFTOVER_SECONDS:g} s after being "
            f"cancelled when the test's loop closed:\n{stacks}"
        )


asyncio.runners._cancel_all_tasks = cancel_all_tasks  # type: ignore[attr-defined]
