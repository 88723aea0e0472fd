"""The ``coach`` command: run the coach, try it, check the curriculum, upgrade the database."""

from __future__ import annotations

import asyncio

import typer

from bot.cli import curriculum, keys, people, privacy, simulate, staff, whatsapp
from bot.cli.loading import load_settings, setup_logging
from bot.config import Settings

app = typer.Typer(
    help="Coach: lessons in the chat apps learners already use.", no_args_is_help=True
)


db_app = typer.Typer(help="The database.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations."""
    asyncio.run(_upgrade(load_settings()))
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
    setup_logging()
    settings = load_settings()
    keys.require_data_keys(settings)
    _serve(settings)


@app.command()
def demo() -> None:
    """Try the coach locally: SQLite, the web chat, no token needed."""
    setup_logging()
    settings = load_settings()
    demo_key = keys.demo_data_keys(settings)
    asyncio.run(_upgrade(settings))
    desk = asyncio.run(people.demo_desk_link(settings))
    if demo_key is not None:
        typer.echo(f"Hand-off texts are sealed with a demo-only key, kept in {demo_key}.")
    typer.echo(f"Learners: open {settings.web_address}/ and write /help to ask for a person.")
    typer.echo(f"Volunteer desk (open it in another tab; the link works once): {desk}")
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


app.add_typer(curriculum.app, name="curriculum")
app.add_typer(simulate.app, name="simulate")
app.add_typer(people.volunteer_app, name="volunteer")
app.command()(people.handoffs)
app.command()(privacy.forget)
app.add_typer(whatsapp.app, name="whatsapp")
app.add_typer(staff.app, name="staff")
app.add_typer(keys.app, name="keys")
