"""Try policies on a virtual clock."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from bot.cli.loading import load_settings

app = typer.Typer(help="Try policies on a virtual clock.", no_args_is_help=True)


@app.command("nudges")
def simulate_nudges(
    learners: Annotated[int, typer.Option(min=1, help="Size of the synthetic cohort.")] = 200,
    days: Annotated[int, typer.Option(min=1, max=365, help="Days to simulate.")] = 21,
    seed: Annotated[int, typer.Option(help="Seed of the random cohort.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Run the real reminder policy and sweep on a virtual clock with a synthetic cohort."""
    import json

    from bot.simulation import simulate

    settings = load_settings()
    root = settings.curriculum_path.parent
    report = asyncio.run(simulate(learners, days, seed, root))
    if as_json:
        typer.echo(json.dumps(report.as_json()))
        return
    typer.echo(f"{learners} learners, {days} days, seed {seed}")
    typer.echo(f"reminders sent:                 {report.nudges_sent}")
    typer.echo(f"most to one learner in one day: {report.max_per_learner_per_day}")
    typer.echo(f"sent after a stop:              {report.after_stop}")
    typer.echo(f"sent in quiet hours (21-9):     {report.in_quiet_hours}")
    typer.echo(f"learners who came back:         {report.returned_learners}")
    typer.echo("local hour of sending:")
    peak = max(report.local_hour_histogram.values(), default=1)
    for hour, count in report.local_hour_histogram.items():
        typer.echo(f"  {hour:02d}:00 {'#' * max(1, round(40 * count / peak))} {count}")
