"""Sealed columns: what learners and volunteers say to each other, encrypted at rest.

A copied database or a stolen backup must not expose a learner's own words, the messages
relayed between a learner and their volunteer (and the coach's copies of them in the
outbox), a learner's photo or voice note, the volunteer's note or the learner's comment.
These columns are ``SealedText`` or ``SealedBytes``: Fernet tokens (AES-128-CBC and
HMAC-SHA256, from ``cryptography``) made with the keys of ``COACH_DATA_KEYS``.

The first key seals, every key opens (``MultiFernet``), so a key is rotated without a
pause: put a new key first and keep the old one after it, restart, run ``coach keys
rotate`` (it seals every value again with the first key), then drop the old key.

- A value written before sealing existed (plain text) is read as it is; ``coach keys
  rotate`` seals it.
- A value no key opens reads as ``UNREADABLE`` (an ``Unreadable`` string), never an
  exception, so the desk and the erasure and retention sweeps go on; each row loaded
  through the ORM with one is logged with its table and id only. Written back unchanged
  (a request saved again as it was read), it keeps its token: nothing is lost.
- A file no key opens reads as ``None`` (as a file the coach does not keep).
- ``None`` and the empty string are stored as they are: they say nothing, and the
  retention sweep empties delivered texts with ``text = ''`` and looks for ``text != ''``.

A sealed column can only be compared with ``None`` and ``''``: the same text sealed twice
gives two different tokens.

The keys are process-wide: the settings install them (``use_data_keys``) when they are
read. Without a key, writing a sealed value raises ``MissingDataKey``, so nothing is ever
written in the clear by mistake; reading still works (sealed values read as
``UNREADABLE``).
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import (
    LargeBinary,
    String,
    Table,
    Text,
    and_,
    event,
    func,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import InstanceState, Mapper
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator, TypeEngine

log = logging.getLogger(__name__)

UNREADABLE = "[unreadable: sealed with a key that is not in COACH_DATA_KEYS]"
MAKE_A_KEY = "coach keys new"
NO_KEY = (
    "COACH_DATA_KEYS is not set, so the coach cannot seal what learners and volunteers "
    f"write to each other. Make a key with `{MAKE_A_KEY}` and set COACH_DATA_KEYS to it."
)
_TOKEN = re.compile(r"gAAAAA[A-Za-z0-9_-]{92,}={0,2}")  # 73 bytes at least
_RAW_PREFIX = b"\x80\x00\x00\x00"  # Fernet's version byte, then a timestamp before 2106
_RAW_OVERHEAD = 57  # version, timestamp, IV and HMAC around the AES blocks
_AES_BLOCK = 16


class MissingDataKey(RuntimeError):
    """A sealed value was to be written, and no key is configured."""


class Unreadable(str):
    """A sealed value no configured key opens: it reads as ``UNREADABLE`` and keeps its
    token, so that writing it back unchanged keeps the value as it was."""

    token: str

    def __new__(cls, token: str) -> Unreadable:
        made = super().__new__(cls, UNREADABLE)
        made.token = token
        return made


def parse_keys(raw: str) -> list[str]:
    """The keys of ``COACH_DATA_KEYS``: comma-separated, blanks ignored."""
    return [key.strip() for key in raw.split(",") if key.strip()]


def key_problem(keys: Sequence[str]) -> str | None:
    """What is wrong with these keys, without showing any of them; None when all is well."""
    if not keys:
        return f"COACH_DATA_KEYS holds no key. Make one with `{MAKE_A_KEY}`."
    for place, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            return (
                f"COACH_DATA_KEYS: key {place} of {len(keys)} is not a Fernet key (44 "
                f"characters of URL-safe base64). Make one with `{MAKE_A_KEY}`; separate "
                "keys with commas, the key that seals first."
            )
    return None


def new_key() -> str:
    return Fernet.generate_key().decode()


def looks_sealed(value: str) -> bool:
    """A Fernet token, as opposed to a value written before sealing existed."""
    return len(value) % 4 == 0 and _TOKEN.fullmatch(value) is not None


def looks_sealed_bytes(value: bytes) -> bool:
    """A Fernet token in binary form (``SealedBytes`` keeps it so, a quarter smaller)."""
    return (
        value.startswith(_RAW_PREFIX)
        and len(value) >= _RAW_OVERHEAD + _AES_BLOCK
        and (len(value) - _RAW_OVERHEAD) % _AES_BLOCK == 0
    )


class Keyring:
    """The configured keys: the first seals, every one opens."""

    def __init__(self, keys: Sequence[str | bytes] = ()) -> None:
        self._fernets = [Fernet(key) for key in keys]
        self._multi = MultiFernet(self._fernets) if self._fernets else None

    def __bool__(self) -> bool:
        return self._multi is not None

    def __len__(self) -> int:
        return len(self._fernets)

    def seal(self, plain: bytes) -> bytes:
        if self._multi is None:
            raise MissingDataKey(NO_KEY)
        return self._multi.encrypt(plain)

    def open(self, token: bytes) -> bytes:
        """The plain value; ``InvalidToken`` when no key opens it."""
        if self._multi is None:
            raise InvalidToken
        return self._multi.decrypt(token)

    def is_current(self, token: bytes) -> bool:
        """Sealed with the first key (checked by its HMAC alone, nothing is decrypted)."""
        if not self._fernets:
            return False
        try:
            self._fernets[0].extract_timestamp(token)
        except InvalidToken:
            return False
        return True

    def reseal(self, token: bytes) -> bytes:
        """The same value sealed with the first key; ``InvalidToken`` when no key opens it."""
        if self._multi is None:
            raise MissingDataKey(NO_KEY)
        return self._multi.rotate(token)

    # Text columns keep the token as text, byte columns in binary form.

    def seal_text(self, plain: str) -> str:
        return self.seal(plain.encode("utf-8", "surrogatepass")).decode("ascii")

    def open_text(self, stored: str) -> str:
        """The plain text; a legacy plain value as it is; ``Unreadable`` when no key opens."""
        if not looks_sealed(stored):
            return stored
        try:
            return self.open(stored.encode("ascii")).decode("utf-8", "surrogatepass")
        except InvalidToken:
            return Unreadable(stored)

    def seal_bytes(self, plain: bytes) -> bytes:
        return base64.urlsafe_b64decode(self.seal(plain))

    def open_bytes(self, stored: bytes) -> bytes | None:
        """The plain bytes; a legacy plain value as it is; None when no key opens it."""
        if not looks_sealed_bytes(stored):
            return stored
        try:
            return self.open(base64.urlsafe_b64encode(stored))
        except InvalidToken:
            return None


_keyring = Keyring()


def use_data_keys(keys: Sequence[str | bytes]) -> None:
    """Seal and open with these keys from now on, in this whole process."""
    global _keyring
    _keyring = Keyring(keys)


def keyring() -> Keyring:
    return _keyring


class SealedText(TypeDecorator[str]):
    """Text sealed at rest (see the module's notes).

    ``sqlite_length``: the column stays ``VARCHAR(n)`` on SQLite, as the migration that
    made it declared it. SQLite enforces no length, so a token fits; changing the type
    there would mean copying the whole table, whose drop would cascade to the tables that
    refer to it. PostgreSQL's column is ``TEXT``.
    """

    impl = Text
    cache_ok = True

    def __init__(self, sqlite_length: int | None = None) -> None:
        super().__init__()
        self.sqlite_length = sqlite_length

    def load_dialect_impl(self, dialect: Any) -> TypeEngine[Any]:
        if dialect.name == "sqlite" and self.sqlite_length is not None:
            return String(self.sqlite_length)
        return Text()

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        if value is None or value == "":
            return value
        if isinstance(value, Unreadable):
            return value.token
        return _keyring.seal_text(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        if value is None or value == "":
            return value
        return _keyring.open_text(value)


class SealedBytes(TypeDecorator[bytes]):
    """A file sealed at rest; one no key opens reads as None."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: bytes | None, dialect: Any) -> bytes | None:
        if value is None or value == b"":
            return value
        return _keyring.seal_bytes(bytes(value))

    def process_result_value(self, value: bytes | None, dialect: Any) -> bytes | None:
        if value is None or value == b"":
            return value
        return _keyring.open_bytes(bytes(value))


def unreadable_in(table: str, row: object) -> None:
    """The one log line for a row holding a value no key opens: its table and id only."""
    log.warning(
        "%s row %s: a sealed value could not be opened (its key is not in COACH_DATA_KEYS)",
        table,
        row,
    )


_SEALED_KEYS: dict[Mapper[Any], tuple[str, ...]] = {}


def _sealed_keys(mapper: Mapper[Any]) -> tuple[str, ...]:
    found = _SEALED_KEYS.get(mapper)
    if found is None:
        found = tuple(
            prop.key
            for prop in mapper.column_attrs
            if any(isinstance(column.type, SealedText) for column in prop.columns)
        )
        _SEALED_KEYS[mapper] = found
    return found


def _loaded(state: InstanceState[Any], *_: Any) -> None:
    keys = _sealed_keys(state.mapper)
    if keys and any(isinstance(state.dict.get(key), Unreadable) for key in keys):
        row = ",".join(str(part) for part in state.identity or ())
        unreadable_in(str(state.mapper.local_table.name), row or "?")  # type: ignore[attr-defined]


# Every mapped class: a row loaded or refreshed with a value no key opens is logged.
event.listen(Mapper, "load", _loaded, raw=True)
event.listen(Mapper, "refresh", _loaded, raw=True)


# --- Sealing every value again with the first key: ``coach keys rotate``.


@dataclass
class Resealed:
    """What a pass over one table did."""

    table: str
    columns: tuple[str, ...] = ()
    rows: int = 0  # rows holding at least one value, looked at so far
    total: int = 0  # such rows when the pass began
    resealed: int = 0  # values sealed with an older key, now with the first
    sealed: int = 0  # values written before sealing existed, now sealed
    changed: int = 0  # values the coach changed meanwhile (they are sealed anew by it)
    unreadable: list[int] = field(default_factory=list)  # rows no key opens


Progress = Callable[[Resealed], Awaitable[None] | None]


def sealed_tables(tables: Sequence[Table]) -> list[tuple[Table, list[Any]]]:
    """Each table with sealed columns, and those columns."""
    found = []
    for table in tables:
        columns = [c for c in table.columns if isinstance(c.type, SealedText | SealedBytes)]
        if columns:
            found.append((table, columns))
    return found


def _stored_type(column: Any) -> TypeEngine[Any]:
    return LargeBinary() if isinstance(column.type, SealedBytes) else Text()


def _raw(column: Any) -> ColumnElement[Any]:
    """The column as stored: its token, not the value the sealed type would give."""
    return type_coerce(column, _stored_type(column))


def _kept(column: Any) -> ColumnElement[bool]:
    raw = _raw(column)
    empty = b"" if isinstance(column.type, SealedBytes) else ""
    return and_(raw.is_not(None), raw != empty)


def _again(ring: Keyring, stored: Any) -> tuple[str, Any]:
    """What to do with one stored value: ("current"|"resealed"|"sealed"|"unreadable", new)."""
    if isinstance(stored, str):
        if not looks_sealed(stored):
            return "sealed", ring.seal_text(stored)
        token = stored.encode("ascii")
        if ring.is_current(token):
            return "current", None
        try:
            return "resealed", ring.reseal(token).decode("ascii")
        except InvalidToken:
            return "unreadable", None
    stored = bytes(stored)
    if not looks_sealed_bytes(stored):
        return "sealed", ring.seal_bytes(stored)
    token = base64.urlsafe_b64encode(stored)
    if ring.is_current(token):
        return "current", None
    try:
        return "resealed", base64.urlsafe_b64decode(ring.reseal(token))
    except (InvalidToken, binascii.Error):
        return "unreadable", None


async def reseal_table(
    engine: AsyncEngine,
    table: Table,
    columns: Sequence[Any],
    ring: Keyring,
    batch: int,
    progress: Progress | None = None,
) -> Resealed:
    """Seal every value of ``columns`` with the first key, ``batch`` rows a transaction, in
    the order of the rows' ids. A value already sealed with the first key is left as it
    is (checked by its HMAC), so a pass that stopped halfway is simply run again. Each
    value is written only if it is still the one read, so a row the coach changes
    meanwhile keeps the coach's value."""
    if not ring:
        raise MissingDataKey(NO_KEY)
    (key,) = table.primary_key.columns
    holding = or_(*(_kept(column) for column in columns))
    done = Resealed(table.name, tuple(column.name for column in columns))
    async with engine.connect() as connection:
        counted = await connection.scalar(select(func.count()).select_from(table).where(holding))
        done.total = int(counted or 0)
    after: int | None = None
    while True:
        async with engine.begin() as connection:
            query = select(key, *(_raw(column) for column in columns)).where(holding)
            if after is not None:
                query = query.where(key > after)
            rows = (await connection.execute(query.order_by(key).limit(batch))).all()
            for row in rows:
                row_id, values = row[0], row[1:]
                unreadable = False
                for column, stored in zip(columns, values, strict=True):
                    if stored is None or len(stored) == 0:
                        continue
                    outcome, new = _again(ring, stored)
                    if outcome == "unreadable":
                        unreadable = True
                    if new is None:
                        continue
                    as_stored = _stored_type(column)
                    written = await connection.execute(
                        update(table)
                        .where(key == row_id, _raw(column) == type_coerce(stored, as_stored))
                        .values({column.name: type_coerce(new, as_stored)})
                    )
                    if written.rowcount == 1:
                        setattr(done, outcome, getattr(done, outcome) + 1)
                    else:
                        done.changed += 1
                if unreadable:
                    done.unreadable.append(int(row_id))
                    unreadable_in(table.name, row_id)
        if not rows:
            break
        after = rows[-1][0]
        done.rows += len(rows)
        if progress is not None:
            shown = progress(done)
            if shown is not None:
                await shown
    return done
