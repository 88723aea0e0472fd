"""What the shared Telegram code asks of a runtime's bot, and its failures in one vocabulary.

Each runtime (aiogram, python-telegram-bot) implements ``BotCalls`` and turns its library's
exceptions into an ``ApiFailure``; the decisions about them (what the sender does, when an
edit becomes a new message, when a file is uploaded again) are written once, here.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from bot.delivery.errors import DeliveryError, Moved, Rejected, RetryAfter, Transient, Unreachable
from bot.store.outbox import Button

Keyboard = tuple[tuple[str, str], ...]
"""Inline buttons, one a row (labels stay whole on a narrow screen): (label, callback data)."""


def keyboard_of(buttons: tuple[Button, ...]) -> Keyboard:
    return tuple((button.label, button.payload) for button in buttons)


class Problem(StrEnum):
    FLOOD = "flood"  # 429, with retry_after
    FORBIDDEN = "forbidden"  # 403: blocked, kicked, deactivated
    MIGRATED = "migrated"  # a group became a supergroup, with its new id
    NETWORK = "network"  # no answer, a time-out, a server error (5xx)
    REQUEST = "request"  # 401/404: about the request (a wrong API base or token), not a person
    BAD_REQUEST = "bad_request"  # 400, with Telegram's description


class ApiFailure(Exception):
    """A Bot API call failed, in words both runtimes share."""

    def __init__(
        self,
        problem: Problem,
        description: str = "",
        *,
        retry_after: float = 1.0,
        moved_to: str = "",
    ) -> None:
        super().__init__(f"{problem}: {description}")
        self.problem = problem
        self.description = description
        self.retry_after = retry_after
        self.moved_to = moved_to

    def says(self, *words: str) -> bool:
        reason = self.description.lower()
        return any(word in reason for word in words)


Rule = tuple[Problem, tuple[str, ...], Callable[[ApiFailure], DeliveryError]]
OUTCOMES: tuple[Rule, ...] = (
    (Problem.FLOOD, (), lambda f: RetryAfter(f.retry_after)),
    (Problem.FORBIDDEN, (), lambda f: Unreachable(f.description)),
    (Problem.MIGRATED, (), lambda f: Moved(f.moved_to)),
    (Problem.NETWORK, (), lambda f: Transient(f.description or "network")),
    (Problem.REQUEST, (), lambda f: Transient(f.description or "request")),
    (Problem.BAD_REQUEST, ("chat not found",), lambda f: Unreachable(f.description)),
    (Problem.BAD_REQUEST, (), lambda f: Rejected(f.description)),
)
"""The first rule whose problem matches (and, if it names words, whose description has
one of them) says what the sender does with the message."""


def outcome(failure: ApiFailure) -> DeliveryError:
    for problem, words, error in OUTCOMES:
        if failure.problem is problem and (not words or failure.says(*words)):
            return error(failure)
    return Transient(str(failure))


def edit_unchanged(failure: ApiFailure) -> bool:
    """The pressed message already shows this text: the edit is done."""
    return failure.problem is Problem.BAD_REQUEST and failure.says("not modified")


def edit_impossible(failure: ApiFailure) -> bool:
    """The pressed message is gone, too old, or a photo: a new message is sent instead."""
    return failure.problem is Problem.BAD_REQUEST and failure.says(
        "not found", "can't be edited", "no text"
    )


def file_forgotten(failure: ApiFailure) -> bool:
    """A remembered file id another bot (token) made, or one Telegram forgot: upload again."""
    return failure.problem is Problem.BAD_REQUEST and failure.says("file")


class BotCalls(Protocol):
    """The Bot API calls the shared code makes; each raises ApiFailure when it fails."""

    async def send_text(
        self, chat: int, text: str, keyboard: Keyboard = (), reply_to: int | None = None
    ) -> int:
        """Send a message; its id."""
        ...

    async def edit_text(
        self, chat: int, message_id: int, text: str, keyboard: Keyboard
    ) -> None: ...

    async def copy(self, chat: int, from_chat: int, message_id: int) -> None: ...

    async def send_media(
        self, kind: str, chat: int, file: str | Path, caption: str | None, keyboard: Keyboard
    ) -> tuple[int, str | None, int | None]:
        """Send a ``photo``, ``voice`` or ``audio`` (a file id, or a file to upload): the
        message's id, and the file id and size Telegram gave it (it re-encodes photos)."""
        ...

    async def answer_button(self, query_id: str, alert: str | None = None) -> None: ...

    async def download(self, file_id: str, limit: int) -> bytes | None:
        """A learner's file by its id, for the volunteer desk; None when over ``limit`` bytes."""
        ...
