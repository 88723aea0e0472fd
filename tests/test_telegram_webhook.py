"""Webhook mode: Telegram calls the coach's web server, which checks the secret token."""

from __future__ import annotations

import asyncio

from tests.telegram_learner import (
    WEBHOOK_SECRET,
    coach_behind_webhook,
    handled,
    outbox,
    post_update,
    quiet,
    settled,
)

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
        await quiet(coach)
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
