"""Rate limits on the coach's side, so the platform's flood control is rarely reached.

Private chats get a token bucket (a steady rate with a short burst); groups and the whole
bot get sliding windows (at most N messages in any window). A channel may give its private
chats their own rate (WhatsApp: about one message every 6 s to one person) and its own
limit for all its messages (WhatsApp: 80 a second per number, instead of the bot's 30), and
a channel may be paused as a whole (its number's throughput reached). A channel's own limit
is paced evenly, one message at a time: a second's worth sent at once reaches the platform
spread out by the network, and the end of one second's burst meets the start of the next.

A platform counts messages when they arrive, and on a busy machine a message may leave long
after it was let go (the event loop is late, the connection is slow): two messages let go a
second apart can arrive closer than that. So a message sent through ``sending`` counts from
when it was let go until the platform answered as arriving *now* (its arrival is not known
yet, only that it is not later), and from then on as having arrived when the platform
answered, the latest it can have arrived. The margin this keeps grows with the machine's
delays by itself and costs nothing when there are none. ``margin`` widens every window a
little more, for the platform's own clock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

# How soon a message waiting only for messages still on their way looks again.
ON_THE_WAY_POLL = 0.005


@dataclass(frozen=True)
class Limits:
    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: int = 20
    total_per_second: int = 30
    margin: float = 0.01


@dataclass
class _Bucket:
    tokens: float
    at: float
    rate: float = 0.0  # tokens a second, as last refilled


@dataclass(slots=True)
class _Mark:
    """One message in a sliding window: when it left, then when the platform answered."""

    at: float
    on_the_way: bool

    def seen(self, now: float) -> float:
        return now if self.on_the_way else self.at


@dataclass
class _Taken:
    """What one message counted in, to move it to when the platform answered."""

    at: float
    marks: list[_Mark]
    buckets: list[_Bucket]


@dataclass
class RateLimiter:
    limits: Limits
    clock: Callable[[], float]
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _private: dict[str, _Bucket] = field(default_factory=dict)
    _groups: dict[str, deque[_Mark]] = field(default_factory=dict)
    _total: deque[_Mark] = field(default_factory=deque)
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
        """Wait until one more message to ``chat`` fits every limit, then count it as sent
        now; False, without counting it, when ``give_up()`` turns true before it fits.
        ``rate``: the private chat's own messages per second, instead of
        ``private_per_second``; ``channel``: the name under which its whole channel may be
        paused; ``total``: that channel's own messages per second, instead of counting in
        ``total_per_second``."""
        async with self.sending(
            chat, group, give_up, rate=rate, channel=channel, total=total
        ) as allowed:
            return allowed

    @contextlib.asynccontextmanager
    async def sending(
        self,
        chat: str,
        group: bool,
        give_up: Callable[[], bool] = lambda: False,
        *,
        rate: float | None = None,
        channel: str | None = None,
        total: int | None = None,
    ) -> AsyncIterator[bool]:
        """``acquire``, for a message sent inside the block: it counts as arriving now until
        the block ends (the platform answered, or the send failed), then as having arrived
        then. Yields False, counting nothing, when ``give_up()`` turned true first."""
        taken = await self._acquire(chat, group, give_up, rate, channel, total)
        try:
            yield taken is not None
        finally:
            if taken is not None:
                self._answered(taken)

    async def _acquire(
        self,
        chat: str,
        group: bool,
        give_up: Callable[[], bool],
        rate: float | None,
        channel: str | None,
        total: int | None,
    ) -> _Taken | None:
        own = channel if total is not None else None
        while True:
            chat_wait = max(
                self._own_wait(chat, group, self.clock(), rate),
                self._channel_wait(channel, self.clock()),
            )
            if chat_wait <= 0:
                break
            if give_up():
                return None
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
                    return self._take(chat, group, now, own)
                if give_up():
                    return None
                await self.sleep(wait)

    def _answered(self, taken: _Taken) -> None:
        """The platform answered: the message arrived at the latest now."""
        now = self.clock()
        for mark in taken.marks:
            mark.at, mark.on_the_way = max(mark.at, now), False
        for bucket in taken.buckets:
            # Taken now rather than when it left; a send that took longer than one token's
            # time moves by one token at most.
            bucket.tokens -= min(1.0, (now - taken.at) * bucket.rate)

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

    def _total_wait(self, channel: str | None, total: int | None, now: float) -> float:
        limits = self.limits
        if channel is None or total is None:
            return _window_wait(self._total, now, 1.0 + limits.margin, limits.total_per_second)
        # At most ``total`` in any second, counting the one that may go at once.
        rate = (total - 1) / (1.0 + limits.margin)
        bucket = self._channel_totals.setdefault(channel, _Bucket(1.0, now))
        _refill(bucket, now, rate, 1.0)
        return _token_wait(bucket)

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
        burst = float(self.limits.private_burst)
        bucket = self._private.setdefault(chat, _Bucket(burst, now))
        _refill(bucket, now, per_second / (1.0 + self.limits.margin), burst)
        return _token_wait(bucket)

    def _take(self, chat: str, group: bool, now: float, channel: str | None) -> _Taken:
        taken = _Taken(now, [], [])
        if channel is None:
            taken.marks.append(_Mark(now, on_the_way=True))
            self._total.append(taken.marks[-1])
        else:
            taken.buckets.append(self._channel_totals[channel])
        if group:
            taken.marks.append(_Mark(now, on_the_way=True))
            self._groups[chat].append(taken.marks[-1])
        else:
            taken.buckets.append(self._private[chat])
        for bucket in taken.buckets:
            bucket.tokens -= 1
        return taken


def _refill(bucket: _Bucket, now: float, rate: float, burst: float) -> None:
    bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * rate)
    bucket.at, bucket.rate = now, rate


def _token_wait(bucket: _Bucket) -> float:
    # A wait too small to move the clock on would be waited for ever.
    return 0.0 if bucket.tokens >= 1 - 1e-9 else (1 - bucket.tokens) / bucket.rate


def _window_wait(window: deque[_Mark], now: float, span: float, limit: int) -> float:
    """Seconds until one more message fits: fewer than ``limit`` in the last ``span``,
    a message still on its way counting as arriving now."""
    while window and not window[0].on_the_way and window[0].at <= now - span:
        window.popleft()
    if len(window) < limit:
        return 0.0
    recent = sorted(
        (mark.seen(now), mark.on_the_way) for mark in window if mark.seen(now) > now - span
    )
    if len(recent) < limit:
        return 0.0
    oldest, on_the_way = recent[len(recent) - limit]
    # Waiting for a message on its way to arrive: look again soon.
    return ON_THE_WAY_POLL if on_the_way else oldest + span - now
