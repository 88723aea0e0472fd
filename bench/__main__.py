"""Run every benchmark: ``python -m bench`` (``make bench``)."""

from __future__ import annotations

import asyncio

from bench import service_intake


def main() -> None:
    asyncio.run(service_intake.run())


main()
