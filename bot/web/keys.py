"""The web app's secret key and what comes from it: conversation credentials, chat ids, hashes."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from pydantic import SecretStr

CREDENTIAL = re.compile(r"^[A-Za-z0-9_-]{43}$")
_RANDOM, _TAG = 16, 16


def load_secret_key(configured: SecretStr | None, path: Path) -> bytes:
    """The configured key, else the one kept in ``path``, made once so restarts keep it."""
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value().encode()
    with contextlib.suppress(FileNotFoundError):
        kept = path.read_text().strip()
        if kept:
            return kept.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_urlsafe(32) + "\n")
    try:
        os.link(draft, path)  # atomic: two processes starting at once keep the same key
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text().strip().encode()


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class ConversationKeys:
    """Issues web chat credentials and recognises them without keeping a list of them."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, purpose: bytes, value: bytes) -> bytes:
        return hmac.new(self._secret, purpose + b"\0" + value, hashlib.sha256).digest()

    def issue(self) -> str:
        """A new credential: 128 random bits and a 128-bit tag, so a guess is refused."""
        random = secrets.token_bytes(_RANDOM)
        return _encode(random + self._mac(b"conversation", random)[:_TAG])

    def chat_id(self, credential: str) -> str | None:
        """The internal chat id of a credential this server issued; None for anything else."""
        if not CREDENTIAL.match(credential):
            return None
        try:
            raw = base64.urlsafe_b64decode(credential + "=")
        except (binascii.Error, ValueError):
            return None
        random, tag = raw[:_RANDOM], raw[_RANDOM:]
        if len(tag) != _TAG or not hmac.compare_digest(
            tag, self._mac(b"conversation", random)[:_TAG]
        ):
            return None
        return "w" + self._mac(b"chat", random)[:20].hex()

    def log_hash(self, value: str) -> str:
        """A short keyed hash to tell requests apart in the log without revealing who."""
        return self._mac(b"log", value.encode("utf-8", "replace")).hex()[:12]

    def session_key(self, purpose: str = "trainer-session") -> bytes:
        """The 32-byte key of an encrypted session cookie (the trainers', the desk's)."""
        return self._mac(purpose.encode(), b"")
