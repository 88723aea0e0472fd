"""The Telegram channel, on aiogram 3 or python-telegram-bot 22."""
