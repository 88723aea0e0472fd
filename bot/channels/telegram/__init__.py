"""The Telegram channel, on aiogram 3."""
