"""Trainers' answer patterns, run by RE2: linear time whatever a learner types.

Python's own engine backtracks: ``\\S+@\\S+\\.\\S+`` against "@" × 4096 takes minutes.
RE2 never backtracks, so no pattern a trainer writes and no answer a learner sends can
freeze the coach. RE2's ``\\w``, ``\\d`` and ``\\s`` know only ASCII; trainers write for
learners who type in Arabic, Cyrillic or Ethiopic script, so those classes are widened
to their Unicode meaning before compiling. ``\\b`` cannot be widened and is refused.
"""

from __future__ import annotations

from functools import lru_cache

import re2

MAX_CHECKED = 1000  # characters of an answer that are matched; a real answer is shorter
_CLASSES = {"w": r"\pL\pN\pM_", "d": r"\p{Nd}", "s": r"\s\p{Z}"}
_OPTIONS = re2.Options()
_OPTIONS.case_sensitive = False
_OPTIONS.log_errors = False


class PatternError(ValueError):
    """A pattern RE2 cannot run; the message says what to write instead."""


def _widen(pattern: str) -> str:
    """The pattern with ``\\w \\d \\s`` (and their negations) meaning any script."""
    out: list[str] = []
    in_class, i = False, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(_escape(pattern[i + 1], in_class))
            i += 2
            continue
        if in_class and pattern.startswith("[:", i):
            end = pattern.find(":]", i + 2)
            if end != -1:
                out.append(pattern[i : end + 2])
                i = end + 2
                continue
        if char == "[" and not in_class:
            in_class = True
            start = i + 1 + (pattern.startswith("^", i + 1))
            if pattern.startswith("]", start):  # a "]" first in a class is a literal
                out.append(pattern[i : start + 1])
                i = start + 1
                continue
        elif char == "]" and in_class:
            in_class = False
        out.append(char)
        i += 1
    return "".join(out)


def _escape(letter: str, in_class: bool) -> str:
    if letter in "bB":
        raise PatternError(
            "\\b only knows English letters in RE2; "
            "use \\s, ^ or $ around the word instead, e.g. (^|\\s)word($|\\s)"
        )
    lower = letter.lower()
    if lower not in _CLASSES:
        return "\\" + letter
    if letter == lower:
        return _CLASSES[lower] if in_class else f"[{_CLASSES[lower]}]"
    if in_class:
        raise PatternError(f"\\{letter} cannot stand inside [...]; write [^...] instead")
    return f"[^{_CLASSES[lower]}]"


@lru_cache(maxsize=512)
def compile_pattern(source: str) -> re2._Regexp:
    """The compiled pattern; raises PatternError with what is wrong."""
    try:
        return re2.compile(_widen(source), _OPTIONS)
    except re2.error as error:
        reason = error.args[0] if error.args else error
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(f"RE2 cannot use it: {reason}") from None


def matches(source: str, answer: str) -> bool:
    """Whether the learner's answer (its first ``MAX_CHECKED`` characters) fits the pattern."""
    return compile_pattern(source).search(answer[:MAX_CHECKED]) is not None
