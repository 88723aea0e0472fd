"""Settings, read from the environment (prefix ``COACH_``) and an optional ``.env`` file."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.nudges import NudgePolicy
from bot.core.rules import HandoffRules, Place, Rules
from bot.store.sealed import key_problem, parse_keys, use_data_keys

ROOT = Path(__file__).resolve().parent.parent


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAKE_A_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'
WEBHOOK_SECRET_MISSING = (
    "COACH_TELEGRAM_WEBHOOK_URL is set but COACH_TELEGRAM_WEBHOOK_SECRET is not: without it "
    "anyone who finds the webhook address can send the coach forged updates. Make a secret "
    f"with `{MAKE_A_SECRET}` and set COACH_TELEGRAM_WEBHOOK_SECRET to it."
)
WEBHOOK_SECRET_INVALID = (
    "COACH_TELEGRAM_WEBHOOK_SECRET must be 1 to 256 characters, each a letter A-Z or a-z, a "
    f"digit, _ or - (Telegram's rule). Make one with `{MAKE_A_SECRET}`."
)
WHATSAPP_SECRETS_MISSING = (
    "COACH_WHATSAPP_TOKEN is set but COACH_WHATSAPP_APP_SECRET or COACH_WHATSAPP_VERIFY_TOKEN "
    "is not: without them the coach could not tell Meta's webhook calls from forged ones. Set "
    "COACH_WHATSAPP_APP_SECRET to the app secret of your Meta app and "
    f"COACH_WHATSAPP_VERIFY_TOKEN to a secret of your own (`{MAKE_A_SECRET}`)."
)
WHATSAPP_PHONE_NUMBER_MISSING = (
    "COACH_WHATSAPP_TOKEN is set but COACH_WHATSAPP_PHONE_NUMBER_ID is not: set it to the "
    "phone number id shown in the Meta app's WhatsApp API Setup page."
)
WEBHOOK_SECRET_ALPHABET = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
)


def telegram_accepts(secret: str) -> bool:
    """Whether Telegram takes this as a webhook's secret token (a function, so that no
    traceback shows the secret among its locals)."""
    return 1 <= len(secret) <= 256 and set(secret) <= WEBHOOK_SECRET_ALPHABET


class UnsafeSettings(Exception):
    """Settings that would let strangers in; the message says how to fix them. (Not a
    ValueError, so pydantic does not wrap it and print the settings, secrets included.)"""


class PlaceSetting(BaseModel):
    """A drop-in place: ``hours`` like ``["tue 14:00-17:00", "sat 10:00-12:00"]``."""

    id: str
    name: str
    hours: list[str] = Field(default_factory=list)
    timezone: str = "Europe/Paris"

    def place(self) -> Place:
        opening = []
        for entry in self.hours:
            day, _, span = entry.strip().lower().partition(" ")
            start, _, end = span.partition("-")
            if day[:3] not in WEEKDAYS:
                raise ValueError(f"place {self.id}: {entry!r} should look like 'tue 14:00-17:00'")
            weekday = WEEKDAYS.index(day[:3])
            opening.append((weekday, time.fromisoformat(start), time.fromisoformat(end)))
        return Place(self.id, self.name, tuple(opening), self.timezone)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="COACH_", env_file=".env", extra="ignore", env_ignore_empty=True
    )

    database_url: str = f"sqlite+aiosqlite:///{ROOT / 'var' / 'coach.db'}"
    database_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
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
    nudge_batch: int = 100  # a batch's writes hold learners' own turns back ~10–30 ms

    web_host: str = "127.0.0.1"
    web_port: int = 8080
    public_url: str | None = None  # where people reach the web app, for links it prints
    max_upload_mb: int = 10
    trainer_token: SecretStr | None = None
    # /metrics for a scraper elsewhere: sent as `Authorization: Bearer <token>`. Unset,
    # /metrics answers this machine (loopback, not forwarded) and signed-in admins only.
    metrics_token: SecretStr | None = None
    secret_key: SecretStr | None = None
    secret_key_file: Path = ROOT / "var" / "secret.key"
    # Seal hand-off texts at rest (bot/store/sealed.py): Fernet keys, comma-separated; the
    # first seals, every one opens. `coach keys new` makes one; `coach run` needs one.
    data_keys: SecretStr | None = None
    web_rate_limit: str = "600/minute"
    web_start_limit: str = "60/minute"
    trainer_sign_in_limit: str = "5/minute"
    web_body_idle_seconds: float = 30.0

    handoff_topics: list[str] = Field(
        default_factory=lambda: ["phone", "email", "admin", "documents", "safety"]
    )
    handoff_places: list[PlaceSetting] = Field(default_factory=list)
    handoff_escalate_minutes: int = 30
    coordinators: list[str] = Field(default_factory=list)
    admins: list[str] = Field(default_factory=list)
    volunteers_group_chat: str | None = None
    course_poll_seconds: float = 5.0

    telegram_token: SecretStr | None = None
    telegram_api_base: str = "https://api.telegram.org"
    telegram_runtime: Literal["aiogram", "python-telegram-bot"] = "aiogram"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_path: str = "/telegram/webhook"
    telegram_bot_username: str | None = None

    whatsapp_token: SecretStr | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    whatsapp_api_base: str = "https://graph.facebook.com/v26.0"
    whatsapp_business_account_id: str | None = None  # for `coach whatsapp templates --submit`
    whatsapp_webhook_path: str = "/whatsapp/webhook"
    # The number's throughput: Meta's default 80; a number Meta has raised can send up to 1,000.
    whatsapp_messages_per_second: int = Field(default=80, ge=1, le=1000)

    # Matterbridge's API account: bridged WhatsApp groups (on when the URL is set).
    matterbridge_url: str | None = None
    matterbridge_token: SecretStr | None = None
    matterbridge_gateways: list[str] = Field(default_factory=list)  # JSON list; all when empty
    matterbridge_group_per_minute: int = Field(default=20, ge=1)
    matterbridge_media_links: bool = False  # lesson pictures as links (data cost), else words
    matterbridge_help_link: str | None = None  # a private way to ask for a person
    matterbridge_username: str = "Coach"

    # Retention (days): what a closed request said, idempotency keys, delivered texts, and
    # learners who wrote nothing for that long (erased after one last message).
    retention_handoff_days: int = Field(default=30, ge=0)
    retention_inbound_key_days: int = Field(default=7, ge=1)
    retention_outbox_text_days: int = Field(default=7, ge=0)
    retention_inactive_learner_days: int = Field(default=365, ge=30)
    retention_sweep_seconds: float = 3600.0

    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: int = 20
    total_per_second: int = 30
    outbox_sweep_seconds: float = 30.0

    @property
    def data_key_list(self) -> list[str]:
        """The keys of ``COACH_DATA_KEYS``, the one that seals first; empty when unset."""
        return parse_keys(self.data_keys.get_secret_value()) if self.data_keys else []

    @property
    def web_address(self) -> str:
        """The web app's address as people reach it: ``COACH_PUBLIC_URL``, else host:port."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.web_host}:{self.web_port}"

    def rules(
        self,
        languages: dict[str, str],
        help_words: dict[str, frozenset[str]] | None = None,
        stop_words: dict[str, frozenset[str]] | None = None,
    ) -> Rules:
        """The core's rules; the default time zone comes first. Raises ValueError when wrong."""
        zones = [self.default_timezone, *(z for z in self.timezones if z != self.default_timezone)]
        policy = NudgePolicy(
            delays_days=tuple(self.nudge_delays_days),
            window_start=self.nudge_window_start,
            window_end=self.nudge_window_end,
            max_unanswered=len(self.nudge_delays_days),
            fallback_timezone=self.default_timezone,
        )
        handoff = HandoffRules(
            tuple(self.handoff_topics),
            tuple(place.place() for place in self.handoff_places),
            help_words or {},
        )
        return Rules(languages, tuple(zones), policy, handoff, stop_words or {})

    def model_post_init(self, context: object, /) -> None:
        """Webhook mode needs a secret token that Telegram accepts; WhatsApp needs its app
        secret and verify token. Data keys, when set, must be Fernet keys: this process
        then seals and opens with them."""
        keys = self.data_key_list
        if self.data_keys is not None and (problem := key_problem(keys)) is not None:
            raise UnsafeSettings(problem)
        secret = self.telegram_webhook_secret
        if self.telegram_webhook_url is not None and secret is None:
            raise UnsafeSettings(WEBHOOK_SECRET_MISSING)
        if secret is not None and not telegram_accepts(secret.get_secret_value()):
            raise UnsafeSettings(WEBHOOK_SECRET_INVALID)
        if self.whatsapp_token is not None and (
            self.whatsapp_app_secret is None or self.whatsapp_verify_token is None
        ):
            raise UnsafeSettings(WHATSAPP_SECRETS_MISSING)
        if self.whatsapp_token is not None and not self.whatsapp_phone_number_id:
            raise UnsafeSettings(WHATSAPP_PHONE_NUMBER_MISSING)
        if keys:
            use_data_keys(keys)
