"""/mydata and /forget on WhatsApp, in the learner's words and with typed numbers."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.services.retention import Retention
from tests.fakes import whatsapp_webhooks as hook
from tests.telegram_learner import drained
from tests.test_forget import scan_tables
from tests.whatsapp_learner import WhatsAppLearner, coach_on_whatsapp

SAFIA = "33699887766"


async def test_on_whatsapp_mydata_then_forget_me_and_1_erase_everything(
    database_url: str, engine: object
) -> None:
    async with coach_on_whatsapp(database_url) as (coach, graph):
        learner = WhatsAppLearner(coach, graph, SAFIA, "Safia")
        await learner.says("hello")
        said = await learner.taps("English")
        assert "/forget erases it all" in said[0]
        said = await learner.says("/mydata")
        assert said[0].startswith("What I keep about you:\n\nLessons done: 0 of 2")
        assert "First name: Safia" in said[0]
        said = await learner.says("Forget me")
        assert said[0].endswith("1. Yes, erase everything\n2. No, keep it")

        before = len(graph.to(SAFIA))
        assert await graph.post_webhook(hook.text(SAFIA, "Safia", "1")) == 200
        await drained(coach)
        told = [m.body or "" for m in graph.to(SAFIA)[before:]]
        assert told == [
            "Done. I erased everything I kept about you. If you write again, we start from zero."
        ]
        await Retention(coach.store).sweep(datetime.now(UTC))
        assert await scan_tables(coach, [SAFIA, "Safia"]) == []
