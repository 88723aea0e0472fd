"""A WhatsApp learner reaches the same desk: a volunteer answers from Telegram."""

from __future__ import annotations

from unittest.mock import patch

from aiogram.client.session.aiohttp import AiohttpSession

from tests.fakes import FloodLimits, fake_telegram
from tests.telegram_learner import _close_at_once, drained
from tests.telegram_volunteer import TelegramVolunteer
from tests.whatsapp_learner import WhatsAppLearner, coach_on_whatsapp

AMINA = "33612345678"
TAKE = "1. ✋ I take it"


async def test_a_whatsapp_learner_is_helped_by_a_volunteer_in_telegram(
    database_url: str, engine: object
) -> None:
    async with (
        fake_telegram(limits=FloodLimits.off()) as tg,
        coach_on_whatsapp(database_url, telegram_token=tg.token, telegram_api_base=tg.base_url) as (
            coach,
            graph,
        ),
    ):
        with patch.object(AiohttpSession, "close", _close_at_once):
            nadia = tg.user(4001, "Nadia")
            helper = TelegramVolunteer(coach, tg, nadia)
            await helper.joins(["en"])
            amina = WhatsAppLearner(coach, graph, AMINA, "Amina")
            await amina.says("hello")
            await amina.taps("English")
            await amina.taps("🙋 Talk to a person")
            await amina.taps("E-mail")
            said = await amina.taps("Yes, show my first name")
            assert said[0].startswith("Thank you. I am asking the volunteers now.")
            await drained(coach)
            alert = tg.sent(nadia.id)[-1]
            assert alert.labels == [TAKE] and "First name: Amina" in (alert.text or "")
            assert AMINA not in (alert.text or "")
            answered = len(tg.answered_callbacks)
            tg.press(nadia, alert, TAKE)
            await tg.wait_until(lambda: len(tg.answered_callbacks) > answered)
            await drained(coach)
            told = graph.to(AMINA)[-1].body
            assert told.startswith("Nadia will help you. Where: by chat, through the coach.")
            assert told.endswith("1. Back to the lessons")

            assert await amina.says("I forgot my password") == []
            relayed = tg.sent(nadia.id)[-1]
            assert relayed.text == "💬 Amina (#1): I forgot my password"
            assert await helper.says("Tap “Forgot password?”", replying_to=relayed) == []
            await drained(coach)
            assert graph.to(AMINA)[-1].body.startswith("💬 Nadia: Tap “Forgot password?”")
            assert all(AMINA not in (m.text or "") for m in tg.sent(nadia.id))

            # The picture stays in WhatsApp (Telegram cannot copy it): the volunteer is told.
            assert await amina.sends_image() == []
            await drained(coach)
            told = tg.sent(nadia.id)[-1]
            assert (told.method, told.text) == ("sendMessage", "📎 Amina (#1) sent a photo.")
