"""Numbers a learner types, and numbers inside button payloads.

A learner may type a number with the digits of their own script: ASCII, Arabic-Indic
(Arabic), Extended Arabic-Indic (Dari, Pashto), Devanagari, or one Ethiopic numeral
(Tigrinya has no zero and writes ten as ፲). Anything else, such as ``²``, ``①`` or ``٣3``,
is text, never a crash. Payloads are written by the coach itself, so they carry ASCII
digits only; anything else in a payload is forged.
"""

from __future__ import annotations

MOST_DIGITS = 4  # enough for every menu and pause; a longer "number" is text
ID_DIGITS = 18  # database ids: always below 2**63
_DECIMAL_ZEROS = (0x30, 0x660, 0x6F0, 0x966)  # ASCII, Arabic-Indic, Persian, Devanagari
_ETHIOPIC = {chr(0x1369 + n): n + 1 for n in range(9)} | {"\u1372": 10}


def _script_of(char: str) -> int | None:
    """The zero of the decimal script this character is a digit of."""
    code = ord(char)
    for zero in _DECIMAL_ZEROS:
        if zero <= code <= zero + 9:
            return zero
    return None


def typed_number(text: str) -> int | None:
    """The number a learner typed, or None when the message is not a plain number."""
    digits = text.strip()
    if digits in _ETHIOPIC:
        return _ETHIOPIC[digits]
    if not 1 <= len(digits) <= MOST_DIGITS:
        return None
    scripts = {_script_of(char) for char in digits}
    if len(scripts) != 1 or None in scripts:
        return None
    (zero,) = scripts
    assert zero is not None
    value = 0
    for char in digits:
        value = value * 10 + ord(char) - zero
    return value


def payload_number(raw: str, most_digits: int = MOST_DIGITS) -> int | None:
    """A number inside a payload: ASCII digits, no sign, no leading zero, not too long."""
    if not 1 <= len(raw) <= most_digits or not raw.isascii() or not raw.isdigit():
        return None
    if len(raw) > 1 and raw[0] == "0":
        return None
    return int(raw)
