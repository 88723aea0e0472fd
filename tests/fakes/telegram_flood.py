"""Telegram's flood control: per private chat, per group and across the bot."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FloodLimits:
    """Message limits; the defaults follow Telegram's published ones."""

    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: int = 20
    global_per_second: int = 30
    enabled: bool = True

    @classmethod
    def off(cls) -> FloodLimits:
        return cls(enabled=False)


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class FloodControl:
    """Decides whether a message may go now; answers how long to wait when it may not."""

    clock: Callable[[], float]
    limits: FloodLimits = field(default_factory=FloodLimits)
    _private: dict[int, _Bucket] = field(default_factory=dict)
    _groups: dict[int, deque[float]] = field(default_factory=dict)
    _all: deque[float] = field(default_factory=deque)

    def retry_after(self, chat_id: int) -> int | None:
        """Seconds to wait before a message to chat_id is accepted, or None to send it now.

        An accepted message is counted; a refused one is not.
        """
        if not self.limits.enabled:
            return None
        now = self.clock()
        waits = [self._window_wait(self._all, now, 1.0, self.limits.global_per_second)]
        if chat_id > 0:
            waits.append(self._private_wait(chat_id, now))
        else:
            window = self._groups.setdefault(chat_id, deque())
            waits.append(self._window_wait(window, now, 60.0, self.limits.group_per_minute))
        wait = max(waits)
        if wait > 0:
            return max(1, math.ceil(wait))
        self._all.append(now)
        if chat_id > 0:
            self._private[chat_id].tokens -= 1
        else:
            self._groups[chat_id].append(now)
        return None

    def _private_wait(self, chat_id: int, now: float) -> float:
        rate, burst = self.limits.private_per_second, self.limits.private_burst
        bucket = self._private.setdefault(chat_id, _Bucket(float(burst), now))
        bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        return 0.0 if bucket.tokens >= 1 else (1 - bucket.tokens) / rate

    @staticmethod
    def _window_wait(window: deque[float], now: float, span: float, limit: int) -> float:
        while window and window[0] <= now - span:
            window.popleft()
        if len(window) < limit:
            return 0.0
        return window[len(window) - limit] + span - now
