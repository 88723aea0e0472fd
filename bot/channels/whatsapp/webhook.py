"""The WhatsApp webhook: Meta's verification call, then signed calls with messages and statuses.

Every ``POST`` is checked against ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with
the app secret) before anything is parsed: a call without the right signature gets 401 and
changes nothing. A call that could not be handled gets 500, so Meta delivers it again; the
messages it carried are keyed by their WhatsApp id, so a redelivery changes nothing.

A learner's message opens the 24-hour window again: the messages held while it was closed
are due at once. A status can arrive before the sender has stored the message's id (Meta
answers the send and calls the webhook at about the same time): while a message to that
learner is being sent, the status waits a moment for the id; if it is still not there, the
call is answered 500 so Meta delivers it again, and the status is not lost.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy import exists, select

from bot.channels.webhooks import WebhookCalls
from bot.channels.whatsapp.errors import UNREACHABLE
from bot.channels.whatsapp.inbound import (
    CHANNEL,
    JSON,
    Status,
    message_event,
    names,
    statuses,
    values,
)
from bot.delivery.held import HeldMessages
from bot.services.coach import CoachService, Unavailable
from bot.store.delivery_status import DeliveryStatus
from bot.store.tables import OutboxRow

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Hub-Signature-256"
STOP_GRACE_SECONDS = 10.0
STATUS_WAIT_SECONDS = 2.0
STATUS_POLL_SECONDS = 0.05


class StatusTooEarly(Unavailable):
    """A status of a message whose id is not stored yet: Meta is to deliver it again."""


def signature(app_secret: bytes, body: bytes) -> str:
    """The header Meta sends with a body: ``sha256=`` and the hex HMAC of the raw bytes."""
    return "sha256=" + hmac.new(app_secret, body, hashlib.sha256).hexdigest()


class WhatsAppWebhook:
    def __init__(
        self,
        service: CoachService,
        status: DeliveryStatus,
        *,
        phone_number_id: str,
        app_secret: str,
        verify_token: str,
        path: str,
        on_unreachable: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        """``on_unreachable``: stops the learner of a chat WhatsApp says cannot be reached."""
        self.service = service
        self.status = status
        self.phone_number_id = phone_number_id
        self._app_secret = app_secret.encode()
        self._verify_token = verify_token.encode()
        self.path = path
        self.on_unreachable = on_unreachable
        self.calls = WebhookCalls("whatsapp webhook")
        self.held = HeldMessages(status.store)

    def routes(self) -> list[web.RouteDef]:
        return [web.get(self.path, self._on_verify), web.post(self.path, self._on_call)]

    async def _on_verify(self, request: web.Request) -> web.StreamResponse:
        """Meta's subscription check: the challenge back when the verify token is ours."""
        query = request.query
        given = query.get("hub.verify_token", "").encode()
        if query.get("hub.mode") != "subscribe" or not secrets.compare_digest(
            given, self._verify_token
        ):
            log.warning("whatsapp webhook verification refused")
            return web.Response(status=403)
        return web.Response(text=query.get("hub.challenge", ""), content_type="text/plain")

    async def _on_call(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        given = request.headers.get(SIGNATURE_HEADER, "").encode()
        if not secrets.compare_digest(given, signature(self._app_secret, raw).encode()):
            log.warning("whatsapp webhook refused: %s signature", "bad" if given else "no")
            return web.Response(status=401)
        return await self.calls.answer(raw, self.handle)

    async def handle(self, body: JSON) -> None:
        """Every message and status the call carries, in order."""
        for value in values(body, self.phone_number_id):
            people = names(value)
            for message in value.get("messages") or []:
                first_name = people.get(str(message.get("from")))
                event = message_event(message, first_name, self.service.clock())
                if event is not None:
                    await self._window_opened(event.sender.chat_id)
                    await self.service.handle(event, CHANNEL)
            for status in statuses(value):
                if not await self._record(status):
                    log.info("whatsapp status %s for a message not known here", status.status)
                elif status.code in UNREACHABLE and self.on_unreachable is not None:
                    log.info("whatsapp says a learner is unreachable (%s); they stop", status.code)
                    await self.on_unreachable(status.chat_id)

    async def _window_opened(self, chat_id: str) -> None:
        """The learner wrote: what was held for them is due, before the answer to this."""
        released = await self.held.release(CHANNEL.name, chat_id, self.service.clock())
        if released:
            log.info("whatsapp: %d held messages are due again", released)
            if self.service.on_outbox is not None:
                self.service.on_outbox()

    async def _record(self, status: Status) -> bool:
        """Apply a status; whether its message is known. While a message to that learner is
        being sent, its id may not be stored yet: wait for it a moment, then have the call
        delivered again rather than lose the status."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STATUS_WAIT_SECONDS
        while True:
            found = await self._apply(status)
            if found:
                return True
            if not await self._sending(status.chat_id):
                # Its "sent" mark (the id and the status, together) may have been written
                # between the two looks: one more look sees it if so.
                return await self._apply(status)
            if loop.time() >= deadline:
                log.info("whatsapp status %s before its message id is stored", status.status)
                raise StatusTooEarly("status before its message id is stored")
            await asyncio.sleep(STATUS_POLL_SECONDS)

    async def _apply(self, status: Status) -> bool:
        return await self.status.record(
            CHANNEL.name, status.chat_id, status.message_id, status.status, status.error
        )

    async def _sending(self, chat_id: str) -> bool:
        async with self.status.store.unit_of_work() as uow:
            in_flight = exists().where(
                OutboxRow.channel == CHANNEL.name,
                OutboxRow.chat_id == chat_id,
                OutboxRow.status == "sending",
            )
            return bool(await uow.session.scalar(select(in_flight)))

    async def stop_receiving(self) -> None:
        await self.calls.stop(STOP_GRACE_SECONDS)
