"""The Matterbridge channel, built from settings: on when ``COACH_MATTERBRIDGE_URL`` is set.

Matterbridge relays a WhatsApp group (through an unofficial WhatsApp client) to its API
account; the coach follows that account's stream and posts its replies there. Every person in
a served gateway is their own learner; a gateway is a group, so there are no reminders, and
asking for a person leads to ``COACH_MATTERBRIDGE_HELP_LINK`` (a private chat with the coach,
or the association's contact) while group talk never reaches a volunteer. With several coach
processes on PostgreSQL, one of them follows the stream at a time (``COACH_LEADER_*``).
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from bot.channels.base import ChannelParts, Wiring
from bot.channels.matterbridge.api import MatterbridgeApi
from bot.channels.matterbridge.combining import CombinedPosts
from bot.channels.matterbridge.delivery import MatterbridgeDelivery
from bot.channels.matterbridge.inbound import CHANNEL, JSON, message_event
from bot.channels.matterbridge.pending import PARENT_NOT_FOUND, PendingQuestions
from bot.channels.matterbridge.stream import StreamFollower
from bot.services.coach import UNREACHABLE, CoachService, Unavailable
from bot.services.leader import Election
from bot.store.unit_of_work import Store

log = logging.getLogger(__name__)
IDLE_SECONDS = 300.0  # the stream has no keep-alive: this long silent, it is followed again


class GroupMessages:
    """Each streamed message of a served gateway, as a core event for the coach service."""

    def __init__(
        self,
        service: CoachService,
        pending: PendingQuestions,
        gateways: Collection[str],
        help_link: str | None,
    ) -> None:
        self.service = service
        self.pending = pending
        self.gateways = frozenset(gateways)
        self.help_link = help_link

    async def __call__(self, message: JSON) -> None:
        event = message_event(message, self.gateways, self.service.clock())
        if event is None:
            return
        try:
            replied = message.get("parent_id") == PARENT_NOT_FOUND
            event = await self.pending.addressed(event, replied)
        except (DBAPIError, *UNREACHABLE) as error:
            raise Unavailable from error
        await self.service.handle(event, CHANNEL, help_link=self.help_link)


class DatabaseProbe:
    """Whether the database answers at all (a message it keeps refusing is then at fault)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def __call__(self) -> bool:
        try:
            async with self.store.unit_of_work() as uow:
                await uow.session.execute(select(1))
        except (DBAPIError, *UNREACHABLE):
            return False
        return True


def matterbridge(wiring: Wiring) -> ChannelParts | None:
    settings = wiring.settings
    if not settings.matterbridge_url:
        return None
    token = settings.matterbridge_token
    api = MatterbridgeApi(
        settings.matterbridge_url,
        token.get_secret_value() if token is not None else None,
        idle_seconds=IDLE_SECONDS,
    )
    messages = GroupMessages(
        wiring.service,
        PendingQuestions(wiring.store),
        settings.matterbridge_gateways,
        settings.matterbridge_help_link,
    )
    if not settings.matterbridge_help_link:
        log.warning(
            "COACH_MATTERBRIDGE_HELP_LINK is not set: people in bridged groups who ask for a "
            "person are told to write privately, with no way to do it given"
        )
    links = f"{settings.web_address}/curriculum" if settings.matterbridge_media_links else None
    delivery = MatterbridgeDelivery(
        api,
        CombinedPosts(wiring.store),
        wiring.catalogs,
        username=settings.matterbridge_username,
        per_minute=settings.matterbridge_group_per_minute,
        media_base=links,
    )
    follower = StreamFollower(
        api,
        messages,
        database_up=DatabaseProbe(wiring.store),
        election=Election.on(wiring.store.engine),
    )
    return ChannelParts(CHANNEL, [], delivery, follower)
