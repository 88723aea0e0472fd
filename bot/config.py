"""Settings, read from the environment (prefix ``COACH_``) and an optional ``.env`` file."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.nudges import NudgePolicy
from bot.core.rules import Rules

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="COACH_", env_file=".env", extra="ignore", env_ignore_empty=True
    )

    database_url: str = f"sqlite+aiosqlite:///{ROOT / 'var' / 'coach.db'}"
    curriculum_path: Path = ROOT / "curriculum"
    locales_path: Path = ROOT / "locales"
    languages: list[str] = Field(
        default_factory=lambda: ["en", "fr", "ar", "fa_AF", "ps", "uk", "ru", "ti"]
    )
    default_language: str = "en"
    fallback_language: str = "en"
    default_timezone: str = "Europe/Paris"
    timezones: list[str] = Field(
        default_factory=lambda: [
            "Europe/Paris",
            "Europe/London",
            "Europe/Kyiv",
            "Europe/Moscow",
            "Asia/Dubai",
            "Asia/Kabul",
        ]
    )
    nudge_delays_days: list[int] = Field(default_factory=lambda: [1, 3, 7])
    nudge_window_start: time = time(10, 0)
    nudge_window_end: time = time(19, 0)
    nudge_sweep_seconds: float = 60.0
    nudge_batch: int = 500

    web_host: str = "127.0.0.1"
    web_port: int = 8080
    max_upload_mb: int = 10
    trainer_token: SecretStr | None = None
    course_poll_seconds: float = 5.0

    telegram_token: SecretStr | None = None
    telegram_api_base: str = "https://api.telegram.org"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_path: str = "/telegram/webhook"
    telegram_bot_username: str | None = None

    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: int = 20
    total_per_second: int = 30
    outbox_sweep_seconds: float = 30.0

    def rules(self, languages: dict[str, str]) -> Rules:
        """The core's rules; the default time zone comes first. Raises ValueError when wrong."""
        zones = [self.default_timezone, *(z for z in self.timezones if z != self.default_timezone)]
        policy = NudgePolicy(
            delays_days=tuple(self.nudge_delays_days),
            window_start=self.nudge_window_start,
            window_end=self.nudge_window_end,
            max_unanswered=len(self.nudge_delays_days),
            fallback_timezone=self.default_timezone,
        )
        return Rules(languages, tuple(zones), policy)
