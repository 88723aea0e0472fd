"""The migrations build exactly the tables the code declares, on both engines."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.tables import Base


def differences(connection: Any) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": False}
    )
    found = compare_metadata(context, Base.metadata)
    return [d for d in found if not (isinstance(d, tuple) and d[0] == "remove_table")]


async def test_the_migrated_schema_is_the_declared_one(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []
