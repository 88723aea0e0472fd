"""Schemathesis against a live coach: every answer matches /api/openapi.json, none is a 5xx."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import settings_for
from tests.web_server import live_coach

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
    ]
)


def start_conversation(url: str) -> str:
    where = urlsplit(url)
    connection = http.client.HTTPConnection(where.hostname or "", where.port, timeout=30)
    connection.request("POST", "/api/webchat")
    credential = json.loads(connection.getresponse().read())["conversation"]
    connection.close()
    return str(credential)


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_api_keeps_to_its_openapi_description(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/c.db"
    if engine == "postgres":
        url = request.getfixturevalue("postgres_url")
    configured = settings_for(
        url,
        secret_key_file=tmp_path / "secret.key",
        web_rate_limit="1000000/minute",
        web_start_limit="1000000/minute",
    )
    with live_coach(configured) as live:
        config = tmp_path / "schemathesis.toml"
        config.write_text(f'[parameters]\n"path.conversation" = "{start_conversation(live.url)}"\n')
        st = Path(sys.executable).parent / "st"
        run = subprocess.run(
            [
                str(st),
                "--config-file",
                str(config),
                "--no-color",
                "run",
                f"{live.url}/api/openapi.json",
                "--checks",
                CHECKS,
                "--max-examples",
                "25",
                "--workers",
                "1",
                "--request-timeout",
                "20",
                "--seed",
                "1",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
            check=False,
        )
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
        assert live.log.troubles() == []
