"""What learners and volunteers write to each other is sealed at rest (COACH_DATA_KEYS): the
raw tables hold none of it, the desk reads it back, a key is rotated without a pause, and a
value no key opens reads as a placeholder instead of breaking the desk or the sweeps."""

from __future__ import annotations

import asyncio
import base64
import html
import logging
import stat
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import LargeBinary, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from bot.app import Coach, build
from bot.channels.registry import known_channels
from bot.cli import app as cli
from bot.cli.keys import demo_data_keys
from bot.config import Settings, UnsafeSettings
from bot.services.retention import Retention, RetentionPolicy
from bot.services.volunteers import INVITE_PREFIX, Volunteers
from bot.store.database import create_engine, upgrade
from bot.store.sealed import (
    UNREADABLE,
    Keyring,
    Unreadable,
    keyring,
    looks_sealed,
    looks_sealed_bytes,
    reseal_table,
    sealed_tables,
    use_data_keys,
)
from bot.store.tables import Base, Handoff, HandoffMessage, OutboxRow
from tests.conftest import TEST_DATA_KEY, settings_for
from tests.desk_volunteer import DeskVolunteer
from tests.test_forget import open_request, scan_files
from tests.web_learner import PNG, WebLearner

VOLUNTEER = "7004321"
# The learner's own words fill the 300 characters a topic keeps, in two scripts.
TOPIC = ("Titre de séjour QX41-Zorvane, rendez-vous préfecture — " + "طلب تجديد " * 40)[:300]
WORDS = {
    "relayed": "I sleep at 14 rue Zephyrine-Okal, call 0611229988",
    "reply": "Meet Nadia-KW7 at the Zarbon-Uvex office",
    "note": "Residence permit refused, appeal pending RPX-Quillon",
    "comment": "Very kind volunteer CMT-Wrask",
}
SECRETS = [TOPIC, *WORDS.values()]
SEALED = {
    "handoffs": ("topic_text", "context", "note", "comment"),
    "handoff_messages": ("text", "media_ref", "media_data"),
    "outbox": ("text",),
}


@pytest.fixture(autouse=True)
def the_test_key_again() -> Iterator[None]:
    """Each test here changes the process's keys; the next test finds the usual one."""
    yield
    use_data_keys([TEST_DATA_KEY])


@dataclass
class Helped:
    """A learner helped through the web chat by a volunteer registered in Telegram, who
    also follows the conversation on the desk in a browser."""

    coach: Coach
    client: TestClient[Any, Any]
    learner: WebLearner
    desk: DeskVolunteer
    request: int


async def a_learner_is_helped(coach: Coach, client: TestClient[Any, Any]) -> Helped:
    volunteers = Volunteers(coach.store, lambda: datetime.now(UTC))
    invite = await volunteers.invite("Nadia", [], [], "coach_test_bot")
    assert await volunteers.redeem(invite.link.split(f"start={INVITE_PREFIX}")[1], VOLUNTEER)
    desk = DeskVolunteer(client)
    await desk.sign_in(invite.web_token)
    learner = WebLearner(client)
    await learner.says("/start")
    await learner.taps("English")
    await learner.says("/help")
    await learner.taps("Something else")
    await learner.says(TOPIC)
    await learner.taps("No, stay anonymous")
    request = (await open_request(coach)).id
    assert coach.desk is not None and (await coach.desk.claim(VOLUNTEER, request)).ok
    assert await learner.says(WORDS["relayed"]) == []  # copied to Nadia's Telegram chat
    assert await learner.sends("photo", PNG) == []  # kept for the desk
    assert (await coach.desk.reply(VOLUNTEER, request, WORDS["reply"])).ok
    assert (await coach.desk.close(VOLUNTEER, request, "chat")).ok
    assert (await coach.desk.note(VOLUNTEER, request, WORDS["note"])).ok
    await learner.fetch()
    await learner.taps("⭐⭐⭐⭐⭐")
    await learner.says(WORDS["comment"])
    return Helped(coach, client, learner, desk, request)


@pytest.fixture
async def helped(engine: AsyncEngine, database_url: str) -> AsyncIterator[Helped]:
    coach = build(settings_for(database_url))
    async with TestClient(TestServer(coach.web)) as client:
        done = await a_learner_is_helped(coach, client)
        yield done
        await done.desk.close()
    await coach.store.close()


async def raw(engine: AsyncEngine, table: str) -> list[dict[str, Any]]:
    """A table's rows as the database holds them: plain SQL, no column type in between."""
    async with engine.connect() as connection:
        rows = await connection.execute(text(f"SELECT * FROM {table} ORDER BY 1"))
        return [dict(row) for row in rows.mappings()]


async def plain_in_tables(engine: AsyncEngine, secrets: list[str], files: list[bytes]) -> list[str]:
    """Every raw value of every table that holds one of the secrets or files."""
    hits = []
    for table in Base.metadata.sorted_tables:
        for row in await raw(engine, table.name):
            for column, value in row.items():
                if isinstance(value, str):
                    hits += [f"{table.name}.{column}: {s[:20]}" for s in secrets if s in value]
                elif isinstance(value, bytes | memoryview):
                    data = bytes(value)
                    found = [s.encode() for s in secrets] + files
                    hits += [f"{table.name}.{column}: bytes" for f in found if f in data]
    return hits


async def sealed_values(engine: AsyncEngine) -> list[tuple[str, int, str, Any]]:
    """Every non-empty value of a sealed column, raw: (table, row id, column, value)."""
    found = []
    for table, columns in SEALED.items():
        for row in await raw(engine, table):
            for column in columns:
                if column in row and row[column] not in (None, "", b""):
                    found.append((table, row["id"], column, row[column]))
    return found


def opens_with(key: str, value: Any) -> bool:
    """Sealed with this very key (checked by the token's HMAC)."""
    token = value.encode() if isinstance(value, str) else base64.urlsafe_b64encode(bytes(value))
    try:
        Fernet(key).extract_timestamp(token)
    except InvalidToken:
        return False
    return True


async def read_back(coach: Coach, request: int) -> dict[str, Any]:
    """What the coach reads, through its tables' types."""
    async with coach.store.unit_of_work() as uow:
        handoff = await uow.session.get(Handoff, request, populate_existing=True)
        assert handoff is not None
        messages = list(
            await uow.session.scalars(
                select(HandoffMessage)
                .where(HandoffMessage.handoff_id == request)
                .order_by(HandoffMessage.id)
                .execution_options(populate_existing=True)
            )
        )
        files = list(
            await uow.session.scalars(
                select(HandoffMessage.media_data).where(HandoffMessage.media_data.is_not(None))
            )
        )
        to_volunteer = list(
            await uow.session.scalars(
                select(OutboxRow.text)
                .where(OutboxRow.chat_id == VOLUNTEER)
                .order_by(OutboxRow.id)
                .execution_options(populate_existing=True)
            )
        )
    return {
        "topic": handoff.topic_text,
        "note": handoff.note,
        "comment": handoff.comment,
        "said": [m.text for m in messages if m.text is not None],
        "files": files,
        "to volunteer": to_volunteer,
    }


async def test_the_tables_hold_no_word_of_a_hand_off_yet_the_desk_reads_them(
    helped: Helped, database_url: str
) -> None:
    engine = helped.coach.store.engine
    assert await plain_in_tables(engine, SECRETS, [PNG]) == []
    assert await scan_files(helped.coach, database_url, SECRETS) == []  # SQLite's bytes
    kept = await sealed_values(engine)
    columns = {(table, column) for table, _, column, _ in kept}
    assert {
        ("handoffs", "topic_text"),
        ("handoffs", "note"),
        ("handoffs", "comment"),
        ("handoff_messages", "text"),
        ("handoff_messages", "media_ref"),
        ("handoff_messages", "media_data"),
        ("outbox", "text"),
    } <= columns
    for table, row, column, value in kept:
        sealed = looks_sealed(value) if isinstance(value, str) else looks_sealed_bytes(value)
        assert sealed and opens_with(TEST_DATA_KEY, value), (table, row, column)

    back = await read_back(helped.coach, helped.request)
    assert (back["topic"], back["note"], back["comment"]) == (
        TOPIC,
        WORDS["note"],
        WORDS["comment"],
    )
    assert back["said"] == [WORDS["relayed"], WORDS["reply"]]
    assert back["files"] == [PNG]
    assert any(WORDS["relayed"] in said for said in back["to volunteer"])
    assert any(TOPIC in said for said in back["to volunteer"])  # the alert

    shown = "".join(m["html"] for m in (await helped.desk.messages(helped.request))["messages"])
    assert html.escape(WORDS["relayed"]) in shown and html.escape(WORDS["reply"]) in shown
    page = await helped.desk.page(f"/desk/requests/{helped.request}")
    assert html.escape(TOPIC) in page
    async with helped.desk.session.get(helped.desk.url("/desk/media/" + photo_id(shown))) as got:
        assert got.status == 200 and await got.read() == PNG
    assert any(WORDS["reply"] in m["text"] for m in await helped.learner.fetch())


def photo_id(shown: str) -> str:
    return shown.split('src="/desk/media/', 1)[1].split('"', 1)[0]


async def test_values_written_before_sealing_read_as_they_are_and_rotation_seals_everything(
    helped: Helped, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = helped.coach.store.engine
    old, new = TEST_DATA_KEY, Fernet.generate_key().decode()
    # Rows as a coach without sealing wrote them: plain words, a plain file.
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE handoffs SET context = 'Legacy words LGC-Vantor' WHERE id = :id"),
            {"id": helped.request},
        )
        await connection.execute(
            text("UPDATE handoff_messages SET text = 'Legacy relay LGC-Omber' WHERE text IS NULL")
        )
        plain_file = text(
            "UPDATE handoff_messages SET media_data = :png WHERE media_data IS NOT NULL"
        )
        await connection.execute(
            plain_file.bindparams(bindparam("png", type_=LargeBinary)), {"png": PNG}
        )
    legacy = ["Legacy words LGC-Vantor", "Legacy relay LGC-Omber"]
    back = await read_back(helped.coach, helped.request)
    assert back["said"] == [WORDS["relayed"], legacy[1], WORDS["reply"]]
    assert back["files"] == [PNG]
    async with helped.coach.store.unit_of_work() as uow:
        handoff = await uow.session.get(Handoff, helped.request)
        assert handoff is not None and handoff.context == legacy[0]

    # New key first, the old one kept: the coach reads everything; rotation in small batches.
    monkeypatch.setenv("COACH_DATABASE_URL", database_url)
    monkeypatch.setenv("COACH_DATA_KEYS", f"{new}, {old}")
    rotated = await asyncio.to_thread(CliRunner().invoke, cli, ["keys", "rotate", "--batch", "2"])
    assert rotated.exit_code == 0, rotated.output
    lines = rotated.stdout.splitlines()
    handoffs = "handoffs (topic_text, context, note, comment): 1/1 rows · "
    assert handoffs + "3 sealed again · 1 sealed for the first time · 0 unreadable" in lines
    assert next(line for line in lines if line.startswith("outbox (text): ")).startswith(
        "outbox (text): 2/"
    )
    assert len([line for line in lines if line.startswith("outbox (text): ")]) > 3  # as it goes
    assert lines[-1] == (
        "Every sealed value is sealed with the first key. "
        "The other 1 key(s) of COACH_DATA_KEYS can go."
    )

    # The old key dropped: everything still reads, and every value opens with the new key.
    use_data_keys([new])
    assert await plain_in_tables(engine, SECRETS + legacy, [PNG]) == []
    for table, row, column, value in await sealed_values(engine):
        assert opens_with(new, value), (table, row, column)
    back = await read_back(helped.coach, helped.request)
    assert (back["topic"], back["note"], back["comment"]) == (
        TOPIC,
        WORDS["note"],
        WORDS["comment"],
    )
    assert back["said"] == [WORDS["relayed"], legacy[1], WORDS["reply"]]
    assert back["files"] == [PNG]
    assert any(WORDS["relayed"] in said for said in back["to volunteer"])
    shown = "".join(m["html"] for m in (await helped.desk.messages(helped.request))["messages"])
    assert html.escape(WORDS["relayed"]) in shown and UNREADABLE not in shown

    # Run again, with the new key alone: nothing left to do, nothing changes.
    before = await sealed_values(engine)
    monkeypatch.setenv("COACH_DATA_KEYS", new)
    again = await asyncio.to_thread(CliRunner().invoke, cli, ["keys", "rotate"])
    assert again.exit_code == 0, again.output
    assert " 0 sealed again · 0 sealed for the first time · 0 unreadable" in again.stdout
    assert again.stdout.splitlines()[-1] == "Every sealed value is sealed with the first key."
    assert await sealed_values(engine) == before


async def test_a_rotation_stopped_halfway_goes_on_where_it_stopped(helped: Helped) -> None:
    engine = helped.coach.store.engine
    new = Fernet.generate_key().decode()
    ring = Keyring([new, TEST_DATA_KEY])
    ((table, columns),) = [(t, c) for t, c in sealed_tables([OutboxRow.__table__]) if c]

    class Stopped(Exception):
        pass

    def stop_after_one_batch(done: object) -> None:
        raise Stopped

    with pytest.raises(Stopped):
        await reseal_table(engine, table, columns, ring, 3, stop_after_one_batch)
    texts = [value for t, _, _, value in await sealed_values(engine) if t == "outbox"]
    assert sum(opens_with(new, value) for value in texts) == 3  # the first batch stayed

    done = await reseal_table(engine, table, columns, ring, 3)
    assert (done.resealed, done.sealed, done.unreadable) == (len(texts) - 3, 0, [])
    assert all(
        opens_with(new, value) for t, _, _, value in await sealed_values(engine) if t == "outbox"
    )


async def test_a_value_no_key_opens_reads_as_a_placeholder_and_the_sweeps_go_on(
    helped: Helped, caplog: pytest.LogCaptureFixture
) -> None:
    coach, request = helped.coach, helped.request
    use_data_keys([Fernet.generate_key().decode()])  # TEST_DATA_KEY lost

    caplog.set_level(logging.WARNING, logger="bot.store.sealed")
    back = await read_back(coach, request)
    assert (back["topic"], back["note"], back["comment"]) == (UNREADABLE,) * 3
    assert isinstance(back["note"], Unreadable)
    assert back["said"] == [UNREADABLE, UNREADABLE] and back["files"] == [None]
    logged = [r.getMessage() for r in caplog.records]
    assert f"handoffs row {request}: a sealed value could not be opened" in "\n".join(logged)
    for line in logged:  # table and row id only: no words, no token
        assert line.split(":")[0].split(" ")[1:2] == ["row"]
        assert not any(s[:12] in line for s in SECRETS) and "gAAAAA" not in line

    # The desk shows the placeholder, and does not break.
    messages = await helped.desk.messages(request)
    assert helped.desk.status == 200
    shown = "".join(m["html"] for m in messages["messages"])
    assert html.escape(UNREADABLE) in shown and html.escape(WORDS["relayed"]) not in shown
    assert html.escape(UNREADABLE) in await helped.desk.page(f"/desk/requests/{request}")
    assert helped.desk.status == 200
    await helped.desk.page("/desk")
    assert helped.desk.status == 200
    async with helped.desk.session.get(helped.desk.url("/desk/media/" + photo_id(shown))) as got:
        assert got.status == 404  # a file no key opens is as good as gone

    # Another learner erases themselves while their request holds words no key opens.
    other = WebLearner(helped.client)
    await other.says("/start")
    await other.taps("English")
    await other.says("/help")
    await other.taps("Something else")
    use_data_keys([TEST_DATA_KEY])
    await other.says("Words sealed with the lost key QPX-Dorn")
    use_data_keys([Fernet.generate_key().decode()])
    await other.says("/forget")
    said = await other.taps("Yes, erase everything")
    assert said[0].startswith("Done. I erased everything")

    # The retention sweep empties the closed request's unreadable words when their time is over.
    retention = Retention(coach.store, coach.catalogs, known_channels(), RetentionPolicy())
    assert await retention.sweep(datetime.now(UTC) + timedelta(days=31)) > 0
    async with coach.store.unit_of_work() as uow:
        handoff = await uow.session.get(Handoff, request)
        assert handoff is not None
        assert (handoff.topic_text, handoff.note, handoff.comment) == (None, None, None)
        assert list(await uow.session.scalars(select(HandoffMessage.text))) == []


async def test_a_request_saved_again_unread_keeps_the_words_no_key_opened(
    coach: Coach, client: TestClient[Any, Any]
) -> None:
    learner = WebLearner(client)
    await learner.says("/start")
    await learner.taps("English")
    await learner.says("/help")
    await learner.taps("Something else")
    await learner.says(TOPIC)
    use_data_keys([Fernet.generate_key().decode()])  # a process started with a wrong key
    await learner.taps("No, stay anonymous")  # the request is saved again, as it was read
    use_data_keys([TEST_DATA_KEY])
    request = await open_request(coach)
    assert request.status == "open" and request.topic_text == TOPIC


def test_a_key_is_made_and_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    made = CliRunner().invoke(cli, ["keys", "new"])
    assert made.exit_code == 0
    key = made.stdout.strip()
    Fernet(key)  # a key Fernet takes
    assert (
        "COACH_DATA_KEYS" in made.output
        and key != CliRunner().invoke(cli, ["keys", "new"]).stdout.strip()
    )

    settings = Settings(data_keys=f"{key} , {TEST_DATA_KEY}", _env_file=None)  # type: ignore[call-arg]
    assert settings.data_key_list == [key, TEST_DATA_KEY] and len(keyring()) == 2
    with pytest.raises(UnsafeSettings, match="key 2 of 2 is not a Fernet key") as refused:
        Settings(data_keys=f"{key},not-a-key-Wexil", _env_file=None)  # type: ignore[call-arg]
    assert "Wexil" not in str(refused.value) and key not in str(refused.value)

    monkeypatch.setenv("COACH_DATA_KEYS", "not-a-key-Wexil")
    wrong = CliRunner().invoke(cli, ["run"])
    assert wrong.exit_code == 2 and "key 1 of 1 is not a Fernet key" in wrong.output
    assert "Wexil" not in wrong.output and "Traceback" not in wrong.output


def test_coach_run_refuses_to_start_without_a_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("COACH_DATA_KEYS")
    monkeypatch.setenv("COACH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/coach.db")
    refused = CliRunner().invoke(cli, ["run"])
    assert refused.exit_code == 2
    assert "COACH_DATA_KEYS is not set" in refused.output
    assert "coach keys new" in refused.output and "Traceback" not in refused.output
    assert not (tmp_path / "coach.db").exists()  # nothing started

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert demo_data_keys(settings) is not None  # the demo was tried on this database before
    told = CliRunner().invoke(cli, ["run"])
    assert told.exit_code == 2 and "coach.db.demo-only.key" in told.output


async def test_the_demo_makes_its_own_key_beside_its_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COACH_DATA_KEYS")
    url = f"sqlite+aiosqlite:///{tmp_path}/coach.db"
    settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
    path = demo_data_keys(settings)
    assert path == tmp_path / "coach.db.demo-only.key"
    kept = path.read_text()
    assert kept.startswith("# DEMO ONLY.") and stat.S_IMODE(path.stat().st_mode) == 0o600
    key = kept.splitlines()[-1]
    assert opens_with(key, keyring().seal_text("hello"))
    assert demo_data_keys(settings) == path and path.read_text() == kept  # made once

    configured = Settings(database_url=url, data_keys=TEST_DATA_KEY, _env_file=None)  # type: ignore[call-arg]
    assert demo_data_keys(configured) is None  # the operator's keys win


async def test_rotation_waits_for_the_migrations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/old.db"
    engine = create_engine(url)
    await upgrade(engine, "0008")
    await engine.dispose()
    monkeypatch.setenv("COACH_DATABASE_URL", url)
    refused = await asyncio.to_thread(CliRunner().invoke, cli, ["keys", "rotate"])
    assert refused.exit_code == 1 and "coach db upgrade" in refused.output


def test_a_token_of_any_length_is_told_from_plain_text() -> None:
    ring = Keyring([TEST_DATA_KEY])
    for size in range(0, 70):
        plain = "é" * size
        token = ring.seal_text(plain)
        assert looks_sealed(token) and ring.open_text(token) == plain
        assert looks_sealed_bytes(ring.seal_bytes(plain.encode()))
        assert ring.open_bytes(ring.seal_bytes(plain.encode())) == plain.encode()
        assert not looks_sealed(plain) and ring.open_text(plain) == plain
    for legacy in (PNG, b"OggS" + b"\x00" * 80, b"\xff\xd8\xff" + b"\x00" * 80):
        assert not looks_sealed_bytes(legacy) and ring.open_bytes(legacy) == legacy
    assert isinstance(Keyring([Fernet.generate_key()]).open_text(token), Unreadable)


async def test_rotation_names_the_rows_no_key_opens_and_leaves_them_as_they_are(
    helped: Helped, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = helped.coach.store.engine
    before = await sealed_values(engine)
    monkeypatch.setenv("COACH_DATABASE_URL", database_url)
    monkeypatch.setenv("COACH_DATA_KEYS", Fernet.generate_key().decode())  # the old key lost
    rotated = await asyncio.to_thread(CliRunner().invoke, cli, ["keys", "rotate"])
    assert rotated.exit_code == 1
    assert f"handoffs {helped.request}" in rotated.output
    assert "they read as “[unreadable: sealed with a key" in rotated.output
    assert not any(s[:12] in rotated.output for s in SECRETS) and "gAAAAA" not in rotated.output
    assert await sealed_values(engine) == before  # nothing was touched
    use_data_keys([TEST_DATA_KEY])
    assert (await read_back(helped.coach, helped.request))["note"] == WORDS["note"]
