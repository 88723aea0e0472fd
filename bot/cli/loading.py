"""Settings and logging for every command."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime

import typer
from pydantic import ValidationError

from bot.config import Settings, UnsafeSettings


def load_settings() -> Settings:
    """The settings, or a plain message and exit status 2 when they are wrong or unsafe."""
    try:
        return Settings()
    except UnsafeSettings as error:
        typer.echo(str(error), err=True)
    except ValidationError as error:
        for problem in error.errors():
            where = "COACH_" + "_".join(str(part) for part in problem["loc"]).upper()
            typer.echo(f"{where}: {problem['msg']}", err=True)
    raise typer.Exit(2)


class JsonLines(logging.Formatter):
    """One JSON object a line (``COACH_LOG_FORMAT=json``), for a log collector. It carries
    what the text lines carry (ids and keyed hashes, never names, texts or chat ids)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def setup_logging() -> None:
    """The coach's own lines at INFO; the scheduler's "job executed" every minute is noise."""
    if os.environ.get("COACH_LOG_FORMAT", "").strip().lower() == "json":
        handler = logging.StreamHandler()
        handler.setFormatter(JsonLines())
        logging.basicConfig(level=logging.INFO, handlers=[handler])
    else:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
