"""The ``coach`` command: run the coach, try it, check the curriculum, upgrade the database."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.config import Settings
from bot.course.loader import check_course
from bot.translations.review import catalog_problems

app = typer.Typer(
    help="Coach: lessons in the chat apps learners already use.", no_args_is_help=True
)
curriculum_app = typer.Typer(help="Trainers' tools for the curriculum files.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
app.add_typer(curriculum_app, name="curriculum")
simulate_app = typer.Typer(help="Try policies on a virtual clock.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(simulate_app, name="simulate")
volunteer_app = typer.Typer(help="Volunteers who meet learners.", no_args_is_help=True)
app.add_typer(volunteer_app, name="volunteer")


def _logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@curriculum_app.command("check")
def curriculum_check(
    path: Annotated[Path | None, typer.Argument(help="The curriculum folder.")] = None,
    locales: Annotated[Path | None, typer.Option(help="The catalogs' folder.")] = None,
) -> None:
    """Validate every lesson and translation; print each problem as file:line: what is wrong."""
    settings = Settings()
    course, problems = check_course(path or settings.curriculum_path)
    problems += catalog_problems(locales or settings.locales_path)
    for problem in problems:
        typer.echo(str(problem))
    if problems or course is None:
        typer.echo(f"{len(problems)} problem(s) found.", err=True)
        raise typer.Exit(1)
    typer.echo(f"OK: {len(course.modules)} modules, {len(course.lessons)} lessons.")


@curriculum_app.command("status")
def curriculum_status(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Modules, lessons, competences, and how complete each language is."""
    import json

    from bot.translations.status import status

    settings = Settings()
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


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations."""
    asyncio.run(_upgrade(Settings()))
    typer.echo("Database is up to date.")


async def _upgrade(settings: Settings) -> None:
    from bot.store.database import create_engine, upgrade

    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@app.command()
def run() -> None:
    """Run the coach: the web chat and every configured channel."""
    _logging()
    _serve(Settings())


@app.command()
def demo() -> None:
    """Try the coach locally: SQLite, the web chat, no token needed."""
    _logging()
    settings = Settings()
    asyncio.run(_upgrade(settings))
    _serve(settings)


def _serve(settings: Settings) -> None:
    from bot.app import build, serve
    from bot.course.problems import CourseError

    try:
        coach = build(settings)
    except CourseError as error:
        for problem in error.problems:
            typer.echo(str(problem), err=True)
        typer.echo("The curriculum has errors; fix them and start again.", err=True)
        raise typer.Exit(1) from error
    asyncio.run(serve(coach))


@simulate_app.command("nudges")
def simulate_nudges(
    learners: Annotated[int, typer.Option(min=1, help="Size of the synthetic cohort.")] = 200,
    days: Annotated[int, typer.Option(min=1, max=365, help="Days to simulate.")] = 21,
    seed: Annotated[int, typer.Option(help="Seed of the random cohort.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Run the real reminder policy and sweep on a virtual clock with a synthetic cohort."""
    import json

    from bot.simulation import simulate

    settings = Settings()
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


def _volunteers(settings: Settings) -> tuple[Any, Any]:
    from bot.services.coach import utc_now
    from bot.services.volunteers import Volunteers
    from bot.store.database import create_engine
    from bot.store.unit_of_work import Store

    store = Store(create_engine(settings.database_url))
    return store, Volunteers(store, utc_now)


async def _bot_username(settings: Settings) -> str:
    if settings.telegram_bot_username:
        return settings.telegram_bot_username
    if settings.telegram_token is None:
        typer.echo(
            "Set COACH_TELEGRAM_BOT_USERNAME (the bot's @username) or COACH_TELEGRAM_TOKEN.",
            err=True,
        )
        raise typer.Exit(1)
    from bot.channels.telegram.runtime import make_bot

    bot = make_bot(settings.telegram_token.get_secret_value(), settings.telegram_api_base)
    try:
        me = await bot.me()
    finally:
        await bot.session.close()
    return me.username or ""


def _codes(raw: str) -> list[str]:
    return [code.strip() for code in raw.split(",") if code.strip()]


@volunteer_app.command("invite")
def volunteer_invite(
    name: Annotated[str, typer.Option(help="How learners and coordinators will see them.")],
    languages: Annotated[str, typer.Option(help="Languages they speak, e.g. fr,ar")] = "",
    places: Annotated[
        str, typer.Option(help="Drop-in places where they help, comma-separated")
    ] = "",
) -> None:
    """Create a volunteer and print their single-use registration link (valid 7 days)."""

    async def run() -> None:
        settings = Settings()
        username = await _bot_username(settings)
        store, volunteers = _volunteers(settings)
        try:
            invite = await volunteers.invite(name, _codes(languages), _codes(places), username)
        finally:
            await store.close()
        typer.echo(f"Volunteer {invite.volunteer_id}: {name}")
        typer.echo(
            f"Send them this link (it works once, until {invite.expires_at:%Y-%m-%d %H:%M} UTC):"
        )
        typer.echo(invite.link)

    asyncio.run(run())


@volunteer_app.command("list")
def volunteer_list() -> None:
    """Every volunteer: registered or not, languages, places, available, removed."""

    async def run() -> None:
        store, volunteers = _volunteers(Settings())
        try:
            listed = await volunteers.listed()
        finally:
            await store.close()
        if not listed:
            typer.echo("No volunteers yet: invite one with `coach volunteer invite --name NAME`.")
        for v in listed:
            state = "removed" if not v.active else ("available" if v.available else "away")
            joined = "registered" if v.registered else "invited"
            typer.echo(
                f"{v.id:>4}  {v.name:<24} {joined:<10} {state:<9} "
                f"languages: {','.join(v.languages) or '-'}  places: {','.join(v.places) or '-'}"
            )

    asyncio.run(run())


@volunteer_app.command("remove")
def volunteer_remove(
    volunteer_id: Annotated[int, typer.Argument(help="The number from `list`.")],
) -> None:
    """Remove a volunteer: no more alerts or messages; their requests go back to the queue."""
    from bot.app import build
    from bot.services.coach import utc_now
    from bot.services.volunteers import Volunteers

    async def run() -> int | None:
        coach = build(Settings())
        try:
            if not await Volunteers(coach.store, utc_now).remove(volunteer_id):
                return None
            return await coach.desk.volunteer_removed(volunteer_id) if coach.desk else 0
        finally:
            if coach.telegram is not None:
                await coach.telegram.close()
            await coach.store.close()

    requeued = asyncio.run(run())
    if requeued is None:
        typer.echo(f"No active volunteer {volunteer_id}.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Volunteer {volunteer_id} removed; {requeued} request(s) back in the queue.")


@app.command()
def handoffs(
    open_only: Annotated[
        bool, typer.Option("--open", help="Only requests still open or taken.")
    ] = False,
) -> None:
    """For coordinators: requests for a person, with their times to claim and to close."""
    from bot.services.handoffs import handoff_lines, median_to_claim

    async def run() -> list[Any]:
        store, _ = _volunteers(Settings())
        try:
            return await handoff_lines(store, open_only)
        finally:
            await store.close()

    lines = asyncio.run(run())
    if not lines:
        typer.echo("No requests.")
        return
    header = ("#", "status", "topic", "lang", "asked (UTC)", "to claim", "to close")
    typer.echo("{:>5}  {:<10} {:<10} {:<6} {:<17} {:>9} {:>9}".format(*header))
    for line in lines:
        asked = f"{line.created_at:%Y-%m-%d %H:%M}"
        claim, close = _minutes(line.to_claim), _minutes(line.to_close)
        typer.echo(
            f"{line.id:>5}  {line.status:<10} {line.topic:<10} {line.language:<6} "
            f"{asked:<17} {claim:>9} {close:>9}"
        )
    median = median_to_claim(lines)
    typer.echo(f"Median time to claim: {_minutes(median) if median else 'no claim yet'}")


def _minutes(span: Any) -> str:
    return "-" if span is None else f"{span.total_seconds() / 60:.0f} min"
