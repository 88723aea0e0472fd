"""What a channel is to the rest of the coach, and what it may use to build itself.

A channel does two things only: it turns platform updates into core ``Inbound`` events
(handed to the coach service), and it delivers outbox rows (through the one sender, which
keeps the limits, retries and exactly-once). What it can do is data: its ``Capabilities``.
Adding a channel is a folder under ``bot/channels/``, one line in ``bot/channels/registry.py``
and its settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from aiohttp import web

from bot.config import Settings
from bot.core.channel import Capabilities
from bot.delivery.sender import Delivery
from bot.i18n import Catalogs
from bot.services.coach import CoachService
from bot.services.handoffs import HandoffDesk
from bot.services.volunteers import Volunteers
from bot.services.web_desk import MediaSource
from bot.store.unit_of_work import Store
from bot.web.plumbing import WebPlumbing


class Receiver(Protocol):
    """Receives updates by itself (long polling, a stream): started and stopped with the coach."""

    async def start(self) -> None: ...

    async def stop_receiving(self) -> None:
        """Stop taking updates; those being handled are finished."""

    async def close(self) -> None:
        """Release what is left (sessions), after the sender's last message."""


@dataclass
class ChannelParts:
    """One channel, built: what it can do, its web routes, its delivery, its receiver."""

    capabilities: Capabilities
    routes: list[web.RouteDef] = field(default_factory=list)
    delivery: Delivery | None = None
    receiver: Receiver | None = None
    media: MediaSource | None = None  # fetches a learner's photo or voice note by its ref


@dataclass(frozen=True)
class Wiring:
    """What a channel may use to build itself; everything is passed in, nothing imported."""

    settings: Settings
    service: CoachService
    catalogs: Catalogs
    store: Store
    desk: HandoffDesk
    volunteers: Volunteers
    plumbing: WebPlumbing
    clock: Callable[[], datetime]


ChannelFactory = Callable[[Wiring], ChannelParts | None]
"""Builds a channel from the wiring; None when its settings leave it off."""
