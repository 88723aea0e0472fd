"""How often one client (one remote address) may call the web app, kept in this process."""

from __future__ import annotations

import math
import time

from aiohttp import web
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from bot.core.text import Np_
from bot.web.bodies import Refused


class ClientLimits:
    """Named limits such as ``chat="600/minute"``; a client over one is told when to retry."""

    def __init__(self, **rules: str) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._items: dict[str, RateLimitItem] = {name: parse(rule) for name, rule in rules.items()}

    def check(self, name: str, request: web.BaseRequest) -> None:
        """Count this request; raise Refused (429) when the client is over the limit."""
        item = self._items[name]
        client = request.remote or "unknown"
        if self._limiter.hit(item, name, client):
            return
        reset, _remaining = self._limiter.get_window_stats(item, name, client)
        seconds = max(1, math.ceil(reset - time.time()))
        too_many = Np_(
            "Too many requests in a short time. Please wait {n} second and try again.",
            "Too many requests in a short time. Please wait {n} seconds and try again.",
            seconds,
        )
        raise Refused(too_many, 429, retry_after=seconds)
