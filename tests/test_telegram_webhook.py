"""Webhook mode: Telegram calls the coach's web server, which checks the secret token."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.config import Settings, UnsafeSettings
from bot.store.tables import Volunteer, VolunteerInvite
from tests.conftest import JOURNEY_COURSE, ROOT
from tests.telegram_learner import (
    WEBHOOK_SECRET,
    coach_behind_webhook,
    handled,
    outbox,
    post_update,
    quiet,
    reading,
    settled,
)

pytestmark = pytest.mark.usefixtures("telegram_runtime")

GREETING = "Hello! I am Coach. I help you learn to use your phone, step by step."


async def test_the_coach_sets_its_webhook_with_the_secret_and_refuses_calls_without_it(
    database_url: str, engine: object
) -> None:
    async with coach_behind_webhook(database_url) as (coach, tg, hook):
        assert tg.webhook.url == "https://coach.example.org/telegram/webhook"
        assert tg.webhook.secret_token == WEBHOOK_SECRET
        assert sorted(tg.webhook.allowed_updates or []) == ["callback_query", "message"]
        assert tg.calls("getUpdates") == []

        amina = tg.user(1001, "Amina")
        update = tg.send_command(amina, "/start")
        assert await post_update(hook, update, secret=None) == 401
        assert await post_update(hook, update, secret="guessed-secret") == 401
        await quiet(coach, tg)
        assert not await handled(coach, update) and tg.sent(amina) == []

        assert await post_update(hook, update) == 200
        await settled(coach, update)
        assert [m.text for m in tg.sent(amina)] == [GREETING, "Choose your language."]

        press = tg.press(amina, tg.sent(amina)[-1], "2. Français")
        assert await post_update(hook, press) == 200
        await settled(coach, press)
        assert [a.data for a in tg.answered_callbacks] == ["lang:fr"]
        menu = tg.sent(amina)[-1]
        assert "Mes progrès" in [label.split(". ", 1)[-1] for label in menu.labels]


async def test_an_update_delivered_twice_is_handled_once(database_url: str, engine: object) -> None:
    async with coach_behind_webhook(database_url) as (coach, tg, hook):
        amina, bilal = tg.user(1001, "Amina"), tg.user(1002, "Bilal")
        again = tg.send_command(amina, "/start")
        assert await post_update(hook, again) == 200
        assert await post_update(hook, again) == 200
        together = tg.send_command(bilal, "/start")
        statuses = await asyncio.gather(post_update(hook, together), post_update(hook, together))
        assert list(statuses) == [200, 200]

        for person, update in ((amina, again), (bilal, together)):
            await settled(coach, update)
            assert [m.text for m in tg.sent(person)] == [GREETING, "Choose your language."]
            assert len(await outbox(coach, person.id)) == 2


async def test_a_forged_invite_from_an_admins_id_is_refused_and_changes_nothing(
    database_url: str, engine: object
) -> None:
    async with coach_behind_webhook(database_url, admins=["1001"]) as (coach, tg, hook):
        admin = tg.user(1001, "Dana")
        forged = tg.send_command(admin, "/invite Eve")
        assert await post_update(hook, forged, secret=None) == 401
        assert await post_update(hook, forged, secret="guessed-secret") == 401
        assert await post_update(hook, forged, secret=WEBHOOK_SECRET[:-1]) == 401
        await quiet(coach, tg)

        assert not await handled(coach, forged) and tg.sent(admin) == []
        async with reading(coach) as session:
            for table in (Volunteer, VolunteerInvite):
                assert await session.scalar(select(func.count()).select_from(table)) == 0


def webhook_settings(**extra: Any) -> Settings:
    """Settings read from nothing but these values, in webhook mode."""
    return Settings(
        _env_file=None,
        telegram_token="1:fake",
        telegram_webhook_url="https://coach.example.org/telegram/webhook",
        **extra,
    )


def test_webhook_mode_without_a_secret_is_refused_with_how_to_make_one() -> None:
    with pytest.raises(UnsafeSettings) as refused:
        webhook_settings()
    message = str(refused.value)
    assert "COACH_TELEGRAM_WEBHOOK_SECRET" in message
    assert 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in message


@pytest.mark.parametrize("secret", ["with space", "ünïcode", "semi;colon", "a" * 257])
def test_a_webhook_secret_telegram_would_refuse_is_refused(secret: str) -> None:
    with pytest.raises(UnsafeSettings, match="1 to 256 characters"):
        webhook_settings(telegram_webhook_secret=secret)


@pytest.mark.parametrize("secret", [secrets.token_urlsafe(32), "A" * 256, "a-b_C9"])
def test_a_webhook_secret_telegram_accepts_is_accepted(secret: str) -> None:
    settings = webhook_settings(telegram_webhook_secret=secret)
    assert settings.telegram_webhook_secret is not None
    assert settings.telegram_webhook_secret.get_secret_value() == secret


def test_the_coach_does_not_start_in_webhook_mode_without_a_secret(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("COACH_")}
    env.update(
        PYTHONPATH=str(ROOT),
        COACH_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/coach.db",
        COACH_CURRICULUM_PATH=str(JOURNEY_COURSE),
        COACH_LANGUAGES='["en", "fr", "ar"]',
        COACH_WEB_PORT="0",
        COACH_TELEGRAM_TOKEN="123456789:AAFakeTokenForTheWebhookTest",
        COACH_TELEGRAM_API_BASE="http://127.0.0.1:9",  # nothing listens: nothing leaves
        COACH_TELEGRAM_WEBHOOK_URL="https://coach.example.org/telegram/webhook",
    )
    started = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert "COACH_TELEGRAM_WEBHOOK_SECRET" in started.stderr
    assert "secrets.token_urlsafe(32)" in started.stderr
