"""The running coach's course: reloaded on edits, always the last good version."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from bot.course.loader import MANIFEST, load_course
from bot.course.model import Course
from bot.course.problems import CourseError, Problem

log = logging.getLogger("bot.course")

Fingerprint = tuple[tuple[str, int, int], ...]


def fingerprint(root: Path) -> Fingerprint:
    """Every file under the folder as (path, mtime_ns, size); hidden files are ignored."""
    found: list[tuple[str, int, int]] = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        found.append((relative.as_posix(), stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(found))


class CourseHolder:
    """Holds the current Course; a broken edit is reported and the last good course stays."""

    def __init__(self, path: Path, course: Course, seen: Fingerprint) -> None:
        self.path = path
        self.root = path.parent if path.name == MANIFEST else path
        self._course = course
        self._seen = seen
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path) -> CourseHolder:
        """Load the course; raise CourseError so a coach with a broken course never starts."""
        root = path.parent if path.name == MANIFEST else path
        seen = fingerprint(root)
        return cls(path, load_course(path), seen)

    @property
    def course(self) -> Course:
        return self._course

    def reload(self) -> list[Problem]:
        """Load again; swap on success, else keep the last good course and return the problems."""
        with self._lock:
            # Taken before loading, so an edit saved while loading is seen by the next poll.
            self._seen = fingerprint(self.root)
            try:
                course = load_course(self.path)
            except CourseError as error:
                for problem in error.problems:
                    log.warning("course not reloaded, keeping the last good one: %s", problem)
                return error.problems
            self._course = course
            return []

    def changed(self) -> bool:
        """Whether any file under the curriculum folder changed since the last (re)load."""
        return fingerprint(self.root) != self._seen
