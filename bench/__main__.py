"""Run every benchmark: ``python -m bench`` (``make bench``); ``--json``: the figures as one
JSON object on stdout, by benchmark (the reports go to stderr). A benchmark that returns no
figures of its own is given as the lines it printed (or the JSON it printed)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import io
import json
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from bench import (
    nudge_sweep,
    service_intake,
    telegram_delivery,
    telegram_intake,
    web_chat_load,
    web_data,
    web_fuzz,
    whatsapp_delivery,
    worst_answer,
)
from bench.scratch import figures_out

Run = Callable[..., Coroutine[Any, Any, Any]]
BENCHES: list[tuple[str, Run]] = [
    ("service_intake", service_intake.run),
    ("telegram_delivery", telegram_delivery.run),
    ("whatsapp_delivery", whatsapp_delivery.run),
    ("telegram_intake", telegram_intake.run),
    ("web_chat_load", web_chat_load.run),
    ("nudge_sweep", nudge_sweep.run),
    ("web_fuzz", web_fuzz.run),
    ("worst_answer", worst_answer.run),
    ("web_data", web_data.run),
]


class Tee(io.StringIO):
    """Keeps what is written and passes it on."""

    def __init__(self, to: Any) -> None:
        super().__init__()
        self.to = to

    def write(self, text: str) -> int:
        self.to.write(text)
        return super().write(text)

    def flush(self) -> None:
        self.to.flush()


def run_one(run: Run, as_json: bool) -> Any:
    """One benchmark; with ``as_json``, its figures (or what it printed)."""
    wants_json = "json_out" in inspect.signature(run).parameters
    arguments = [as_json] if wants_json else []
    if not as_json:
        asyncio.run(run(*arguments))
        return None
    printed = Tee(sys.stdout)
    with contextlib.redirect_stdout(printed):
        figures = asyncio.run(run(*arguments))
    if figures is not None:
        return figures
    text = printed.getvalue()
    with contextlib.suppress(ValueError):
        return json.loads(text)
    return {"report": text.splitlines()}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--json", action="store_true", help="the figures as JSON on stdout")
    parser.add_argument(
        "--only", nargs="+", choices=[name for name, _ in BENCHES], help="these benchmarks only"
    )
    arguments = parser.parse_args()
    with figures_out(arguments.json) as give:
        results = {
            name: run_one(run, arguments.json)
            for name, run in BENCHES
            if not arguments.only or name in arguments.only
        }
        give(results)


if __name__ == "__main__":  # importing it (a test, a tool) runs nothing
    main()
