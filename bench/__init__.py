"""Benchmarks: each prints its figures; none is a pass/fail test.

What the coach seals at rest needs a key (``COACH_DATA_KEYS``): a benchmark run without one
gets a key of its own, made for the run and thrown away with it, for the settings it builds
and for the stores it opens directly."""

import os

from cryptography.fernet import Fernet

from bot.store.sealed import parse_keys, use_data_keys

os.environ.setdefault("COACH_DATA_KEYS", Fernet.generate_key().decode())
use_data_keys(parse_keys(os.environ["COACH_DATA_KEYS"]))
