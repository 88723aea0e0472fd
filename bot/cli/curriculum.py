"""Trainers' tools for the curriculum files: check them, and see how complete they are."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.loading import load_settings
from bot.course.loader import check_course
from bot.translations.review import catalog_problems

app = typer.Typer(help="Trainers' tools for the curriculum files.", no_args_is_help=True)


@app.command("check")
def curriculum_check(
    path: Annotated[Path | None, typer.Argument(help="The curriculum folder.")] = None,
    locales: Annotated[Path | None, typer.Option(help="The catalogs' folder.")] = None,
) -> None:
    """Validate every lesson and translation; print each problem as file:line: what is wrong."""
    settings = load_settings()
    folder = path or settings.curriculum_path
    course, problems = check_course(folder, pictures=True)
    problems += catalog_problems(locales or settings.locales_path)
    for problem in problems:
        typer.echo(str(problem))
    if problems or course is None:
        typer.echo(f"{len(problems)} problem(s) found.", err=True)
        raise typer.Exit(1)
    typer.echo(f"OK: {len(course.modules)} modules, {len(course.lessons)} lessons.")


@app.command("pictures")
def curriculum_pictures(
    path: Annotated[Path | None, typer.Argument(help="The curriculum folder.")] = None,
) -> None:
    """Make the WebP for phones of every PNG and JPEG in media/ that has none or an old one."""
    from bot.course.pictures import PHONE_WIDTH, make_pictures

    folder = path or load_settings().curriculum_path
    made, current = make_pictures(folder)
    for one in made:
        if one.error is None:
            typer.echo(
                f"{one.webp}: made from {one.source}, {PHONE_WIDTH} px wide, {one.size:,} bytes"
            )
        else:
            typer.echo(f"{one.source}: {one.error}", err=True)
    typer.echo(f"{sum(one.error is None for one in made)} made, {current} already up to date.")
    if any(one.error is not None for one in made):
        raise typer.Exit(1)


@app.command("status")
def curriculum_status(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Modules, lessons, competences, and how complete each language is."""
    import json

    from bot.translations.status import status

    settings = load_settings()
    course, problems = check_course(settings.curriculum_path)
    if course is None:
        for problem in problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(1)
    report = status(course, settings.curriculum_path, settings.locales_path, settings.languages)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
        return
    typer.echo(
        f"{report['modules']} modules, {report['lessons']} lessons, "
        f"{report['practice_tasks']} practice tasks"
    )
    typer.echo(
        "DigComp 2.2 competences: "
        + ", ".join(f"{code} ({count})" for code, count in report["competences"].items())
    )
    minutes = report["estimated_minutes"].values()
    typer.echo(f"Estimated minutes per lesson: {min(minutes, default=0)}-{max(minutes, default=0)}")
    typer.echo(
        f"{'language':<10}{'domain':<12}{'translated':>11}{'fuzzy':>8}{'missing':>9}{'unreviewed':>12}"
    )
    for code, domains in report["languages"].items():
        for domain, shares in domains.items():
            typer.echo(
                f"{code:<10}{domain:<12}{shares['translated']:>11.0%}{shares['fuzzy']:>8.0%}"
                f"{shares['missing']:>9.0%}{shares['unreviewed']:>12.0%}"
            )
