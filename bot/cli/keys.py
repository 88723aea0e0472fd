"""The keys that seal what learners and volunteers write (``COACH_DATA_KEYS``): ``coach keys
new`` and ``coach keys rotate``; the key ``coach run`` needs and the one ``coach demo`` makes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.engine import make_url

from bot.cli.loading import load_settings
from bot.config import Settings
from bot.store.sealed import (
    MAKE_A_KEY,
    UNREADABLE,
    Resealed,
    SealedBytes,
    key_problem,
    keyring,
    new_key,
    reseal_table,
    sealed_tables,
    use_data_keys,
)

app = typer.Typer(
    help="The keys that seal what learners and volunteers write (COACH_DATA_KEYS).",
    no_args_is_help=True,
)

DEMO_KEY_NAME = ".demo-only.key"
FILE_BATCH = 10  # rows a transaction when they hold files (a photo or voice note each)
KEEP_IT = (
    "Set COACH_DATA_KEYS to this key, and keep a copy apart from the database and its "
    "backups (a password manager): without it the sealed texts cannot be read by anyone."
)
NO_KEY_TO_RUN = (
    "COACH_DATA_KEYS is not set. The coach seals what learners and volunteers write to "
    "each other (their requests, messages, notes, comments) with it, so that a copied "
    f"database or backup does not expose them. Make a key with `{MAKE_A_KEY}`, set "
    "COACH_DATA_KEYS to it (in the environment or .env), and keep a copy apart from the "
    "database: without it those texts cannot be read. (`coach demo` needs none.)"
)
DEMO_KEY_HEADER = (
    "# DEMO ONLY. `coach demo` seals the hand-off texts of the database beside this file\n"
    "# with the key below. Kept next to the database it protects nothing: for real\n"
    f"# learners run `coach run` with COACH_DATA_KEYS set (`{MAKE_A_KEY}` makes a key).\n"
)


@app.command("new")
def new() -> None:
    """Print a new key for COACH_DATA_KEYS (a Fernet key: 44 characters)."""
    typer.echo(new_key())
    typer.echo(KEEP_IT, err=True)


@app.command("rotate")
def rotate(
    batch: Annotated[
        int, typer.Option(min=1, max=5000, help="Rows a transaction (files: 10 at most).")
    ] = 200,
) -> None:
    """Seal every sealed value again with the first key of COACH_DATA_KEYS.

    What was written before sealing existed is sealed too; afterwards the other keys can
    go. Each batch of rows is a short transaction; stopped halfway, run it again: it skips
    what is done."""
    settings = load_settings()
    require_data_keys(settings)
    passes = asyncio.run(_rotate(settings, batch))
    unreadable = [(p.table, row) for p in passes for row in p.unreadable]
    if unreadable:
        rows = ", ".join(f"{table} {row}" for table, row in unreadable[:20])
        more = f" and {len(unreadable) - 20} more" if len(unreadable) > 20 else ""
        typer.echo(
            f"{len(unreadable)} row(s) hold values no key opens ({rows}{more}): they read "
            f"as “{UNREADABLE}” and were left as they are. Put the key that sealed them in "
            "COACH_DATA_KEYS and run this again; without that key they cannot be recovered "
            "(the retention sweep empties them when their request's time is over).",
            err=True,
        )
        raise typer.Exit(1)
    if any(p.changed for p in passes):
        typer.echo("Some values changed while this ran: run it once more to be sure.")
        return
    dropped = len(keyring()) - 1
    typer.echo(
        "Every sealed value is sealed with the first key."
        + (f" The other {dropped} key(s) of COACH_DATA_KEYS can go." if dropped else "")
    )


async def _rotate(settings: Settings, batch: int) -> list[Resealed]:
    from bot.store.database import create_engine
    from bot.store.tables import Base

    engine = create_engine(settings.database_url, settings.database_timeout_seconds)
    try:
        if not await _at_head(engine):
            typer.echo("The database is not up to date: run `coach db upgrade` first.", err=True)
            raise typer.Exit(1)
        done = []
        for table, columns in sealed_tables(Base.metadata.sorted_tables):
            texts = [c for c in columns if not isinstance(c.type, SealedBytes)]
            files = [c for c in columns if isinstance(c.type, SealedBytes)]
            if texts:
                done.append(await reseal_table(engine, table, texts, keyring(), batch, _shown))
            if files:
                small = min(batch, FILE_BATCH)
                done.append(await reseal_table(engine, table, files, keyring(), small, _shown))
        return done
    finally:
        await engine.dispose()


def _shown(done: Resealed) -> None:
    typer.echo(
        f"{done.table} ({', '.join(done.columns)}): {done.rows}/{done.total} rows · "
        f"{done.resealed} sealed again · "
        f"{done.sealed} sealed for the first time · {len(done.unreadable)} unreadable"
    )


async def _at_head(engine: Any) -> bool:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from bot.store.database import alembic_config

    url = engine.url.render_as_string(hide_password=False)
    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    async with engine.connect() as connection:
        current: set[str] = await connection.run_sync(
            lambda sync: set(MigrationContext.configure(sync).get_current_heads())
        )
    return current == heads


def require_data_keys(settings: Settings) -> None:
    """``coach run``: the keys are set, or a plain message and exit status 2."""
    if settings.data_key_list:
        return
    typer.echo(NO_KEY_TO_RUN, err=True)
    demo = demo_key_path(settings)
    if demo.exists():
        typer.echo(
            f"This database was used by `coach demo`, which sealed its texts with the "
            f"demo-only key in {demo}: to keep them, set COACH_DATA_KEYS to your new key, "
            "a comma and that key, run `coach keys rotate`, then drop the demo key.",
            err=True,
        )
    raise typer.Exit(2)


def demo_key_path(settings: Settings) -> Path:
    """Where ``coach demo`` keeps its key: beside its SQLite database file (else beside the
    web secret key), named so that nobody takes it for a real one."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database)
        return database.with_name(database.name + DEMO_KEY_NAME)
    return settings.secret_key_file.with_name("data" + DEMO_KEY_NAME)


def demo_data_keys(settings: Settings) -> Path | None:
    """``coach demo``: the configured keys, else a demo-only key made once and kept beside
    the demo's database (so restarts read what it sealed). Its path, when it is used."""
    if settings.data_key_list:
        return None
    path = demo_key_path(settings)
    use_data_keys([_demo_key(path)])
    return path


def _demo_key(path: Path) -> str:
    with contextlib.suppress(FileNotFoundError):
        return _key_in(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(DEMO_KEY_HEADER + new_key() + "\n")
    try:
        os.link(draft, path)  # atomic: two demos starting at once keep the same key
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return _key_in(path)


def _key_in(path: Path) -> str:
    lines = [line.strip() for line in path.read_text().splitlines()]
    keys = [line for line in lines if line and not line.startswith("#")]
    if len(keys) != 1 or key_problem(keys) is not None:
        typer.echo(f"{path} should hold one key (`{MAKE_A_KEY}` makes one).", err=True)
        raise typer.Exit(2)
    return keys[0]
