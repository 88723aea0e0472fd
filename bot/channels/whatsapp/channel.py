"""The WhatsApp channel, built from settings: on when ``COACH_WHATSAPP_TOKEN`` is set.

pywa's async client sends; the coach's own aiohttp route receives, so that every call is
checked against its signature before anything is parsed. pywa fixes its client's base URL to
Meta's Graph API; the coach hands it its own httpx client and sets that client's base URL to
``COACH_WHATSAPP_API_BASE`` (Meta's, with its version, unless a test points it elsewhere).
"""

from __future__ import annotations

import logging
from functools import partial

import httpx
from pywa_async.client import WhatsApp

from bot.channels.base import ChannelParts, Wiring
from bot.channels.whatsapp.delivery import WhatsAppDelivery
from bot.channels.whatsapp.inbound import CHANNEL
from bot.channels.whatsapp.webhook import WhatsAppWebhook
from bot.config import WHATSAPP_PHONE_NUMBER_MISSING, WHATSAPP_SECRETS_MISSING
from bot.store.delivery_queue import DeliveryQueue
from bot.store.delivery_status import DeliveryStatus
from bot.store.media import MediaCache

TIMEOUT_SECONDS = 30.0
# pywa's debug lines show every request whole (learners' numbers and words): the coach's
# logs carry ids only, so pywa logs from INFO up whatever the root level.
QUIET_LOGGERS = ("pywa", "pywa_async")


class WhatsAppReceiver:
    """The webhook's part in starting and stopping, and the HTTP client's closing."""

    def __init__(self, webhook: WhatsAppWebhook, http: httpx.AsyncClient) -> None:
        self.webhook = webhook
        self.http = http

    async def start(self) -> None:
        """Meta calls the webhook: nothing to start."""

    async def stop_receiving(self) -> None:
        await self.webhook.stop_receiving()

    async def close(self) -> None:
        await self.stop_receiving()
        await self.http.aclose()


def client(token: str, phone_number_id: str, api_base: str) -> tuple[WhatsApp, httpx.AsyncClient]:
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    http = httpx.AsyncClient(timeout=TIMEOUT_SECONDS)
    wa = WhatsApp(phone_id=phone_number_id, token=token, session=http)
    http.base_url = httpx.URL(api_base.rstrip("/"))  # pywa set Meta's; the setting decides
    return wa, http


async def stop_learner(wiring: Wiring, chat_id: str) -> None:
    """WhatsApp reported later that a message cannot reach this learner (they blocked the
    business): as when a send is refused at once, they stop and their messages are dropped."""
    await DeliveryQueue(wiring.store).unreachable(CHANNEL.name, chat_id, wiring.clock())
    await wiring.desk.learner_unreachable(CHANNEL.name, chat_id)


def whatsapp(wiring: Wiring) -> ChannelParts | None:
    settings = wiring.settings
    if settings.whatsapp_token is None:
        return None
    secret, verify = settings.whatsapp_app_secret, settings.whatsapp_verify_token
    if secret is None or verify is None:  # the settings refuse this already
        raise ValueError(WHATSAPP_SECRETS_MISSING)
    phone = settings.whatsapp_phone_number_id
    if not phone:
        raise ValueError(WHATSAPP_PHONE_NUMBER_MISSING)
    wa, http = client(settings.whatsapp_token.get_secret_value(), phone, settings.whatsapp_api_base)
    webhook = WhatsAppWebhook(
        wiring.service,
        DeliveryStatus(wiring.store),
        phone_number_id=phone,
        app_secret=secret.get_secret_value(),
        verify_token=verify.get_secret_value(),
        path=settings.whatsapp_webhook_path,
        on_unreachable=partial(stop_learner, wiring),
    )
    delivery = WhatsAppDelivery(
        wa,
        MediaCache(wiring.store),
        settings.curriculum_path,
        wiring.clock,
        fallback_language=wiring.catalogs.fallback,
        per_second=settings.whatsapp_messages_per_second,
    )

    async def media(ref: str, limit: int) -> bytes | None:
        """A learner's photo or voice note by its media id, as WhatsApp keeps it (30 days)."""
        found = await wa.get_media_url(ref)
        if (found.file_size or 0) > limit:
            return None
        return await wa.get_media_bytes(found.url)

    receiver = WhatsAppReceiver(webhook, http)
    return ChannelParts(CHANNEL, webhook.routes(), delivery, receiver, media)
