"""Fakes of the services Coach talks to, serving their real protocols on loopback."""

from .telegram_api import DEFAULT_TOKEN, FakeTelegram, fake_telegram
from .telegram_flood import FloodLimits
from .telegram_objects import (
    AnsweredCallback,
    ApiCall,
    Button,
    Edit,
    FakeGroup,
    FakeUser,
    FileRecord,
    SentMessage,
    WebhookState,
)

__all__ = [
    "DEFAULT_TOKEN",
    "AnsweredCallback",
    "ApiCall",
    "Button",
    "Edit",
    "FakeGroup",
    "FakeTelegram",
    "FakeUser",
    "FileRecord",
    "FloodLimits",
    "SentMessage",
    "WebhookState",
    "fake_telegram",
]
