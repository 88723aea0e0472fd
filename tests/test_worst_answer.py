"""The worst answer a learner can type costs the coach almost nothing, so nobody else waits.

The coach serves every learner from one event loop: whatever one answer costs on it, every
other learner waits for. The cost is measured as CPU time of this thread (what the loop
could not give anyone else), not as wall-clock time, so a busy machine does not change it.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.channel import Buttons, Capabilities
from bot.services.coach import CoachService
from tests.builders import button, coach_service, command, sender, text
from tests.conftest import ROOT

CHANNEL = Capabilities("test", Buttons.INLINE, pull=True)
LOOP_BUDGET = 0.2  # seconds of this thread's CPU that one answer may take, at most
EMAIL_COURSE = ROOT / "tests" / "fixtures" / "courses" / "email-practice"


@pytest.fixture
def service(engine: AsyncEngine) -> CoachService:
    return coach_service(engine, EMAIL_COURSE, ("en",))


async def at_the_practice(service: CoachService, who: str) -> None:
    for event in (
        command("start", sender(who)),
        button("lang:en", sender(who)),
        button("les:email-create-address", sender(who)),
    ):
        await service.handle(event, CHANNEL)


@pytest.mark.parametrize("answer", ["@" * 4096, "a@" * 2048, "a." * 2048])
async def test_the_worst_address_is_answered_with_the_hint_at_almost_no_cost(
    service: CoachService, answer: str
) -> None:
    await at_the_practice(service, "u1")
    spent = time.thread_time()
    replies = await service.handle(text(answer, sender("u1")), CHANNEL)
    spent = time.thread_time() - spent
    assert replies[0].text == "Write an address with @ and a dot, like sara.martin@gmail.com"
    assert spent < LOOP_BUDGET, f"one answer held the event loop for {spent:.2f} s of CPU"


async def test_a_real_address_still_passes(service: CoachService) -> None:
    await at_the_practice(service, "u2")
    replies = await service.handle(text("sara.martin@gmail.com", sender("u2")), CHANNEL)
    assert replies[0].text == "Good choice!"
