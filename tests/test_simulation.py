"""``coach simulate nudges`` runs the real policy and sweep on a virtual clock."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from bot.cli import app


def test_the_simulation_sends_reminders_only_in_daytime_once_a_day_never_after_stop() -> None:
    result = CliRunner().invoke(
        app, ["simulate", "nudges", "--learners", "30", "--days", "10", "--seed", "7", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) == {
        "nudges_sent",
        "local_hour_histogram",
        "max_per_learner_per_day",
        "after_stop",
        "in_quiet_hours",
        "returned_learners",
    }
    assert report["nudges_sent"] >= 30
    assert report["in_quiet_hours"] == 0
    assert report["after_stop"] == 0
    assert report["max_per_learner_per_day"] == 1
    assert 0 < report["returned_learners"] < 30
    assert sum(report["local_hour_histogram"].values()) == report["nudges_sent"]
    assert all(10 <= int(hour) < 19 for hour in report["local_hour_histogram"])


def test_the_same_seed_gives_the_same_figures() -> None:
    args = ["simulate", "nudges", "--learners", "12", "--days", "5", "--seed", "3", "--json"]
    first, second = CliRunner().invoke(app, args), CliRunner().invoke(app, args)
    assert first.output == second.output
