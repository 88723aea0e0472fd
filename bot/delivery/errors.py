"""What a channel reports when a message could not be delivered."""

from __future__ import annotations


class DeliveryError(Exception):
    """A message was not delivered; the subclass says what to do about it."""


class RetryAfter(DeliveryError):
    """Flood control: this chat may get messages again after ``seconds``; with ``everyone``,
    no chat of the channel may (the whole number's throughput, not one chat's)."""

    def __init__(self, seconds: float, *, everyone: bool = False) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds
        self.everyone = everyone


class Unreachable(DeliveryError):
    """The person blocked the coach, or it was removed from the group."""


class Moved(DeliveryError):
    """The chat has a new id (a Telegram group became a supergroup): send there instead."""

    def __init__(self, chat_id: str) -> None:
        super().__init__(f"moved to chat {chat_id}")
        self.chat_id = chat_id


class Transient(DeliveryError):
    """A server error or a time-out: try again later."""


class Held(DeliveryError):
    """The platform would not take this message now (WhatsApp's 24-hour window is closed): it
    waits, out of the chat's queue, until the person writes again."""


class Rejected(DeliveryError):
    """The platform refused this message for good (it is marked failed; the next ones go on)."""
