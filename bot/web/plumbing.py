"""What every web endpoint shares: the keys derived from the secret, and per-client limits."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.web.client_limits import ClientLimits
from bot.web.keys import ConversationKeys, load_secret_key


@dataclass(frozen=True)
class WebPlumbing:
    keys: ConversationKeys
    limits: ClientLimits

    @classmethod
    def from_settings(cls, settings: Settings) -> WebPlumbing:
        keys = ConversationKeys(load_secret_key(settings.secret_key, settings.secret_key_file))
        limits = ClientLimits(
            chat=settings.web_rate_limit,
            start=settings.web_start_limit,
            **{"sign-in": settings.trainer_sign_in_limit},
        )
        return cls(keys, limits)
