"""Whatever a browser or a stranger sends the web chat API, it never answers 5xx.

Hypothesis makes the requests: JSON of any shape, forms, raw bytes, texts with NUL,
lone surrogates, right-to-left marks and numbers too big for any database.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import settings_for
from tests.web_server import LiveCoach, live_coach

SPECIAL = ["\x00", "\ud800", "\udfff", "مرحبا", "\u202e1\u202c", "²", "٣", "/start", "/x@y z", ""]
wild_text = st.one_of(
    st.sampled_from(SPECIAL), st.text(st.characters(exclude_categories=()), max_size=40)
)
huge = st.one_of(st.integers(), st.sampled_from([2**63, -(2**63) - 1, 2**64, 10**40]))
scalar = st.one_of(st.none(), st.booleans(), huge, st.floats(allow_nan=False), wild_text)
anything = st.recursive(
    scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(wild_text, inner, max_size=3),
)
actions = st.fixed_dictionaries(
    {},
    optional={
        "text": st.one_of(wild_text, anything),
        "button": st.one_of(wild_text, anything),
        "key": st.one_of(wild_text, st.from_regex(r"\A[A-Za-z0-9_-]{1,100}\Z")),
        "reply_to": st.one_of(huge, anything),
        "forward_of": anything,
    },
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-16",
        "application/json; charset=nonsense",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=b",
        "multipart/form-data",
        "text/plain",
    ]
)


def as_json(value: Any) -> bytes:
    return json.dumps(value).encode()  # lone surrogates travel as \ud800 escapes


def as_form(fields: dict[str, str]) -> bytes:
    return urlencode(fields, encoding="utf-8", errors="surrogatepass").encode()


bodies = st.one_of(
    actions.map(lambda a: ("application/json", as_json(a))),
    anything.map(lambda a: ("application/json", as_json(a))),
    st.dictionaries(
        st.sampled_from(["kind", "key", "latitude", "longitude", "name", "phone"]),
        wild_text,
    ).map(lambda f: ("application/x-www-form-urlencoded", as_form(f))),
    st.tuples(content_types, st.binary(max_size=300)),
)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveCoach]:
    folder: Path = tmp_path_factory.mktemp("properties")
    url = f"sqlite+aiosqlite:///{folder}/c.db"
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
    configured = settings_for(
        url,
        secret_key_file=folder / "secret.key",
        web_rate_limit="1000000/minute",
        web_start_limit="1000000/minute",
    )
    with live_coach(configured) as coach:
        yield coach


def call(live: LiveCoach, method: str, path: str, body: bytes = b"", kind: str = "") -> Any:
    where = urlsplit(live.url)
    connection = http.client.HTTPConnection(where.hostname or "", where.port, timeout=30)
    headers = {"Content-Type": kind} if kind else {}
    connection.request(method, path, body=body or None, headers=headers)
    response = connection.getresponse()
    status, data = response.status, response.read()
    connection.close()
    assert status < 500, (status, data[:200])
    answer = json.loads(data)
    if status >= 400:
        assert set(answer) == {"error"} and isinstance(answer["error"], str) and answer["error"]
    return status, answer


@pytest.fixture(scope="module")
def conversation(live: LiveCoach) -> str:
    status, answer = call(
        live, "POST", "/api/webchat", as_json({"text": "/start"}), "application/json"
    )
    assert status == 200
    return str(answer["conversation"])


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(body=bodies, start=st.booleans())
def test_any_body_gets_an_answer_or_a_sentence(
    live: LiveCoach, conversation: str, body: tuple[str, bytes], start: bool
) -> None:
    path = "/api/webchat" if start else f"/api/webchat/{conversation}"
    status, answer = call(live, "POST", path, body[1], body[0])
    if status == 200:
        assert isinstance(answer["messages"], list)
        assert ("conversation" in answer) == start


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(after=wild_text, guess=st.text(st.characters(codec="ascii"), min_size=1, max_size=60))
def test_any_query_or_guess_gets_an_answer_or_a_sentence(
    live: LiveCoach, conversation: str, after: str, guess: str
) -> None:
    query = quote(after.encode("utf-8", "surrogatepass"), safe="")
    call(live, "GET", f"/api/webchat/{conversation}?after={query}")
    status, _ = call(live, "GET", f"/api/webchat/{quote(guess, safe='')}")
    assert status in (404, 405)


def test_nothing_went_wrong_in_the_log(live: LiveCoach) -> None:
    assert live.log.troubles() == []
