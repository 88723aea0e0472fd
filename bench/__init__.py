"""Benchmarks: each prints its figures; none is a pass/fail test.

What the coach seals at rest needs a key (``COACH_DATA_KEYS``): a benchmark run without one
gets a key of its own, made for the run and thrown away with it."""

import os

from cryptography.fernet import Fernet

os.environ.setdefault("COACH_DATA_KEYS", Fernet.generate_key().decode())
