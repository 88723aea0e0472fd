"""The WhatsApp webhook: Meta's verification call, then signed calls with messages and statuses.

Every ``POST`` is checked against ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with
the app secret) before anything is parsed: a call without the right signature gets 401 and
changes nothing. A call that could not be handled gets 500, so Meta delivers it again; the
messages it carried are keyed by their WhatsApp id, so a redelivery changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.channels.webhooks import WebhookCalls
from bot.channels.whatsapp.errors import UNREACHABLE
from bot.channels.whatsapp.inbound import (
    CHANNEL,
    JSON,
    message_event,
    names,
    statuses,
    values,
)
from bot.services.coach import CoachService
from bot.store.delivery_status import DeliveryStatus

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Hub-Signature-256"
STOP_GRACE_SECONDS = 10.0


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
                    await self.service.handle(event, CHANNEL)
            for status in statuses(value):
                found = await self.status.record(
                    CHANNEL.name, status.chat_id, status.message_id, status.status, status.error
                )
                if not found:
                    log.info("whatsapp status %s for a message not known here", status.status)
                elif status.code in UNREACHABLE and self.on_unreachable is not None:
                    log.info("whatsapp says a learner is unreachable (%s); they stop", status.code)
                    await self.on_unreachable(status.chat_id)

    async def stop_receiving(self) -> None:
        await self.calls.stop(STOP_GRACE_SECONDS)
