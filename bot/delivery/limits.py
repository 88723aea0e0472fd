"""Rate limits on the coach's side, so the platform's flood control is rarely reached.

Private chats get a token bucket (a steady rate with a short burst); groups and the whole
bot get sliding windows (at most N messages in any window). A channel may give its private
chats their own rate (WhatsApp: about one message every 6 s to one person) and its own
limit for all its messages (WhatsApp: 80 a second per number, instead of the bot's 30), and
a channel may be paused as a whole (its number's throughput reached). A channel's own limit
is paced evenly, one message at a time: a second's worth sent at once reaches the platform
spread out by the network, and the end of one second's burst meets the start of the next.
``margin`` widens every window a little, so that network jitter between sending and arrival
cannot push a platform that counts arrivals over its limit.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limits:
    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: int = 20
    total_per_second: int = 30
    margin: float = 0.03


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class RateLimiter:
    limits: Limits
    clock: Callable[[], float]
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _private: dict[str, _Bucket] = field(default_factory=dict)
    _groups: dict[str, deque[float]] = field(default_factory=dict)
    _total: deque[float] = field(default_factory=deque)
    _channel_totals: dict[str, _Bucket] = field(default_factory=dict)
    _paused: dict[str, float] = field(default_factory=dict)
    _lines: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def acquire(
        self,
        chat: str,
        group: bool,
        give_up: Callable[[], bool] = lambda: False,
        *,
        rate: float | None = None,
        channel: str | None = None,
        total: int | None = None,
    ) -> bool:
        """Wait until one more message to ``chat`` fits every limit, then count it; False,
        without counting it, when ``give_up()`` turns true before it fits. ``rate``: the
        private chat's own messages per second, instead of ``private_per_second``;
        ``channel``: the name under which its whole channel may be paused; ``total``: that
        channel's own messages per second, instead of counting in ``total_per_second``."""
        own = channel if total is not None else None
        while True:
            chat_wait = max(
                self._own_wait(chat, group, self.clock(), rate),
                self._channel_wait(channel, self.clock()),
            )
            if chat_wait <= 0:
                break
            if give_up():
                return False
            await self.sleep(chat_wait)
        # Then in line for the limit chats share: the first in line alone watches the clock,
        # instead of every waiting chat waking at each free place.
        async with self._lines.setdefault(own or "", asyncio.Lock()):
            while True:
                now = self.clock()
                wait = max(
                    self._total_wait(own, total, now),
                    self._own_wait(chat, group, now, rate),
                    self._channel_wait(channel, now),
                )
                if wait <= 0:
                    self._take(chat, group, now, own)
                    return True
                if give_up():
                    return False
                await self.sleep(wait)

    def pause(self, chat: str, seconds: float) -> None:
        """The platform asked to wait before writing to this chat (or this channel, by its
        name) again; a private chat's burst is spent, so it starts again at its steady rate."""
        now = self.clock()
        self._paused[chat] = max(self._paused.get(chat, 0.0), now + seconds)
        bucket = self._private.get(chat)
        if bucket is not None:
            bucket.tokens, bucket.at = min(bucket.tokens, 0.0), now

    def chat_wait(
        self, chat: str, group: bool, rate: float | None = None, channel: str | None = None
    ) -> float:
        """Seconds before ``chat`` may have a message by its own limits and its channel's
        pause (not the whole bot's)."""
        now = self.clock()
        return max(0.0, self._own_wait(chat, group, now, rate), self._channel_wait(channel, now))

    def wait_time(self, chat: str, group: bool, now: float, rate: float | None = None) -> float:
        limits = self.limits
        total = _window_wait(self._total, now, 1.0 + limits.margin, limits.total_per_second)
        return max(total, self._own_wait(chat, group, now, rate))

    def _total_wait(self, channel: str | None, total: int | None, now: float) -> float:
        limits = self.limits
        if channel is None or total is None:
            return _window_wait(self._total, now, 1.0 + limits.margin, limits.total_per_second)
        # At most ``total`` in any second, counting the one that may go at once.
        rate = (total - 1) / (1.0 + limits.margin)
        bucket = self._channel_totals.setdefault(channel, _Bucket(1.0, now))
        bucket.tokens = min(1.0, bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        return _token_wait(bucket, rate)

    def _channel_wait(self, channel: str | None, now: float) -> float:
        return 0.0 if channel is None else self._paused.get(channel, 0.0) - now

    def _own_wait(self, chat: str, group: bool, now: float, rate: float | None = None) -> float:
        limits = self.limits
        waits = [self._paused.get(chat, 0.0) - now]
        if group:
            window = self._groups.setdefault(chat, deque())
            waits.append(_window_wait(window, now, 60.0 + limits.margin, limits.group_per_minute))
        else:
            waits.append(self._bucket_wait(chat, now, rate))
        return max(waits)

    def _bucket_wait(self, chat: str, now: float, rate: float | None = None) -> float:
        per_second = self.limits.private_per_second if rate is None else rate
        rate = per_second / (1.0 + self.limits.margin)
        burst = float(self.limits.private_burst)
        bucket = self._private.setdefault(chat, _Bucket(burst, now))
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        return _token_wait(bucket, rate)

    def _take(self, chat: str, group: bool, now: float, channel: str | None) -> None:
        if channel is None:
            self._total.append(now)
        else:
            self._channel_totals[channel].tokens -= 1
        if group:
            self._groups[chat].append(now)
        else:
            self._private[chat].tokens -= 1


def _token_wait(bucket: _Bucket, rate: float) -> float:
    # A wait too small to move the clock on would be waited for ever.
    return 0.0 if bucket.tokens >= 1 - 1e-9 else (1 - bucket.tokens) / rate


def _window_wait(window: deque[float], now: float, span: float, limit: int) -> float:
    while window and window[0] <= now - span:
        window.popleft()
    if len(window) < limit:
        return 0.0
    return window[len(window) - limit] + span - now
