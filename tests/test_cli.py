"""The ``coach`` command as an operator and a trainer use it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

from bot.cli import app
from bot.store.database import create_engine
from tests.conftest import JOURNEY_COURSE, ROOT

runner = CliRunner()


def test_the_shipped_curriculum_passes_the_check() -> None:
    result = runner.invoke(app, ["curriculum", "check", str(ROOT / "curriculum")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: ")


def test_a_broken_curriculum_is_reported_as_file_line_message_with_status_1(tmp_path: Path) -> None:
    broken = tmp_path / "course"
    (broken / "basics").mkdir(parents=True)
    (broken / "course.yaml").write_text((JOURNEY_COURSE / "course.yaml").read_text())
    (broken / "basics" / "replies.yaml").write_text(
        (JOURNEY_COURSE / "basics" / "replies.yaml").read_text()
    )
    lesson = (JOURNEY_COURSE / "basics" / "first-steps.yaml").read_text()
    (broken / "basics" / "first-steps.yaml").write_text(
        lesson.replace("kind: quiz", "kind: quizz", 1)
    )
    result = runner.invoke(app, ["curriculum", "check", str(broken)])
    assert result.exit_code == 1
    line = lesson.splitlines().index("    kind: quiz") + 1
    assert f"first-steps.yaml:{line}:" in result.output
    assert "quizz" in result.output


def test_db_upgrade_creates_the_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/fresh.db"
    monkeypatch.setenv("COACH_DATABASE_URL", url)
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output

    async def tables() -> set[str]:
        engine = create_engine(url)
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        await engine.dispose()
        return names

    assert {"learners", "lesson_progress", "events", "inbound_keys", "outbox"} <= asyncio.run(
        tables()
    )


def test_run_refuses_a_broken_curriculum(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_CURRICULUM_PATH", str(tmp_path))
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 1
    assert "The curriculum has errors" in result.output


def test_python_dash_m_bot_works() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    for command in ("run", "demo", "curriculum", "db"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("COACH_WEB_PORT", "eighty", "COACH_WEB_PORT: Input should be a valid integer"),
        (
            "COACH_TELEGRAM_WEBHOOK_URL",
            "https://coach.example.org/telegram/webhook",
            "COACH_TELEGRAM_WEBHOOK_SECRET",
        ),
    ],
)
def test_wrong_settings_are_told_in_one_sentence_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, said: str
) -> None:
    monkeypatch.setenv("COACH_TELEGRAM_TOKEN", "123456789:AAFakeToken")
    monkeypatch.setenv(variable, value)
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2
    assert said in result.output
    assert "Traceback" not in result.output and "AAFakeToken" not in result.output
