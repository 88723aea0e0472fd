"""Run every benchmark: ``python -m bench`` (``make bench``)."""

from __future__ import annotations

import asyncio

from bench import (
    nudge_sweep,
    service_intake,
    telegram_delivery,
    telegram_intake,
    web_data,
    web_fuzz,
    whatsapp_delivery,
    worst_answer,
)


def main() -> None:
    asyncio.run(service_intake.run())
    asyncio.run(telegram_delivery.run())
    asyncio.run(whatsapp_delivery.run())
    asyncio.run(telegram_intake.run())
    asyncio.run(nudge_sweep.run())
    asyncio.run(web_fuzz.run())
    asyncio.run(worst_answer.run())
    asyncio.run(web_data.run())


main()
