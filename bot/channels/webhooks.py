"""Webhook calls from a platform, once their sender is verified: each body handled while the
call waits, so the answer tells the platform whether to send it again."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.services.coach import Unavailable
from bot.stopping import finish
from bot.tracebacks import without_messages

log = logging.getLogger(__name__)
JSON = dict[str, Any]


class WebhookCalls:
    """200 once handled; 500 when not (the database is away, or handling failed), so the
    platform sends it again; 400 for a body that is not a JSON object; 503 once stopping.
    A stop waits, within a bound, for the calls in hand."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._handling: set[asyncio.Task[Any]] = set()
        self._stopping = False

    async def answer(self, raw: bytes, handle: Callable[[JSON], Awaitable[None]]) -> web.Response:
        if self._stopping:
            return web.Response(status=503)
        try:
            body = json.loads(raw)
        except ValueError:
            return web.Response(status=400)
        if not isinstance(body, dict):
            return web.Response(status=400)
        task = asyncio.current_task()
        assert task is not None
        self._handling.add(task)
        try:
            await handle(body)
        except Unavailable:
            log.warning("%s call not handled: database unavailable", self.what)
            return web.Response(status=500)
        except Exception as error:
            log.error("%s call failed\n%s", self.what, without_messages(error))
            return web.Response(status=500)
        finally:
            self._handling.discard(task)
        return web.Response()

    async def stop(self, grace: float) -> None:
        self._stopping = True
        await finish(self._handling, f"{self.what} calls", grace)
