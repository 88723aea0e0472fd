"""The command menu Telegram shows, in every offered language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.core.text import N_
from bot.i18n import Catalogs

COMMANDS = (
    ("start", N_("Start, or come back")),
    ("menu", N_("Lessons")),
    ("progress", N_("My progress")),
    ("data", N_("Data used in the last 7 days")),
    ("language", N_("Change the language")),
    ("help", N_("🙋 Talk to a person")),
    ("stop", N_("Stop my messages")),
)
Menu = list[tuple[str, str]]
SetCommands = Callable[[Menu, str | None], Awaitable[object]]
"""A runtime's ``setMyCommands``: the commands and descriptions, and a language code or None."""


def menus(catalogs: Catalogs) -> list[tuple[str | None, Menu]]:
    """The fallback language's menu for everyone, then one per two-letter language code."""

    def menu(language: str) -> Menu:
        return [(name, catalogs.render(description, language)) for name, description in COMMANDS]

    found: list[tuple[str | None, Menu]] = [(None, menu(catalogs.fallback))]
    done: set[str] = set()
    for code in catalogs.languages:
        telegram_code = code.split("_")[0].split("-")[0].lower()
        if len(telegram_code) == 2 and telegram_code not in done:
            done.add(telegram_code)
            found.append((telegram_code, menu(code)))
    return found


async def register_commands(set_commands: SetCommands, catalogs: Catalogs) -> None:
    """``setMyCommands`` per language code, and the fallback language for everyone else."""
    for language, menu in menus(catalogs):
        await set_commands(menu, language)
