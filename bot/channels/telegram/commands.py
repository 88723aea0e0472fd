"""The command menu Telegram shows, in every offered language."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand

from bot.core.text import N_
from bot.i18n import Catalogs

COMMANDS = (
    ("start", N_("Start, or come back")),
    ("menu", N_("Lessons")),
    ("progress", N_("My progress")),
    ("language", N_("Change the language")),
    ("stop", N_("Stop my messages")),
)


async def register_commands(bot: Bot, catalogs: Catalogs) -> None:
    """``setMyCommands`` per language code, and the fallback language for everyone else."""

    def commands(language: str) -> list[BotCommand]:
        return [
            BotCommand(command=name, description=catalogs.render(description, language))
            for name, description in COMMANDS
        ]

    await bot.set_my_commands(commands(catalogs.fallback))
    done: set[str] = set()
    for code in catalogs.languages:
        telegram_code = code.split("_")[0].split("-")[0].lower()
        if len(telegram_code) == 2 and telegram_code not in done:
            done.add(telegram_code)
            await bot.set_my_commands(commands(code), language_code=telegram_code)
