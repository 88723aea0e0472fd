"""Every channel the coach knows, in the order they are built; settings turn them on."""

from __future__ import annotations

from bot.channels.base import ChannelFactory, ChannelParts, Wiring
from bot.channels.matterbridge.channel import matterbridge
from bot.channels.matterbridge.inbound import CHANNEL as MATTERBRIDGE
from bot.channels.telegram.channel import telegram
from bot.channels.telegram.inbound import CHANNEL as TELEGRAM
from bot.channels.webchat import CHANNEL as WEB
from bot.channels.webchat import web_chat
from bot.channels.whatsapp.channel import whatsapp
from bot.channels.whatsapp.inbound import CHANNEL as WHATSAPP
from bot.core.channel import Capabilities

CHANNELS: tuple[tuple[Capabilities, ChannelFactory], ...] = (
    (WEB, web_chat),
    (TELEGRAM, telegram),
    (WHATSAPP, whatsapp),
    (MATTERBRIDGE, matterbridge),
)


def known_channels() -> dict[str, Capabilities]:
    """What each channel can do, by name, whether it is on or not (stored rows may name it)."""
    return {capabilities.name: capabilities for capabilities, _factory in CHANNELS}


def build_channels(wiring: Wiring) -> dict[str, ChannelParts]:
    """The channels that the settings turn on, by name."""
    built = ((capabilities.name, factory(wiring)) for capabilities, factory in CHANNELS)
    return {name: parts for name, parts in built if parts is not None}
