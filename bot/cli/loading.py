"""Settings and logging for every command."""

from __future__ import annotations

import logging

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


def setup_logging() -> None:
    """The coach's own lines at INFO; the scheduler's "job executed" every minute is noise."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
