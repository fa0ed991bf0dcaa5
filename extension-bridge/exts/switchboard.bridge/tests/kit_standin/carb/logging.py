"""Stand-in for carb.logging: the logging interface Kit's log lines go through, with its Python shape.

``acquire_logging()`` returns the one ``ILogging``; ``add_logger(fn)`` registers a callback called, on the
thread that logs, as ``fn(source, level, filename, line_number, message)`` for every line at or above the
global level, and returns the handle ``remove_logger`` takes. Levels are carb's integers.
"""

from __future__ import annotations

import threading

LEVEL_VERBOSE = -2
LEVEL_INFO = -1
LEVEL_WARN = 0
LEVEL_ERROR = 1
LEVEL_FATAL = 2


class _Logger:
    """The handle ``add_logger`` returns (an opaque object in Kit too)."""

    def __init__(self, fn) -> None:
        self.fn = fn


class ILogging:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loggers: list[_Logger] = []
        self._level = LEVEL_VERBOSE
        self._enabled = True

    def add_logger(self, fn) -> _Logger:
        handle = _Logger(fn)
        with self._lock:
            self._loggers.append(handle)
        return handle

    def remove_logger(self, handle: _Logger) -> None:
        with self._lock:
            if handle in self._loggers:
                self._loggers.remove(handle)

    def set_level_threshold(self, level: int) -> None:
        self._level = level

    def get_level_threshold(self) -> int:
        return self._level

    def set_log_enabled(self, enabled: bool) -> None:
        self._enabled = enabled

    def is_log_enabled(self) -> bool:
        return self._enabled

    # -- stand-in only -------------------------------------------------------------------------------------
    def loggers(self) -> int:
        """How many loggers are registered (tests check that disabling the extension removed its own)."""
        with self._lock:
            return len(self._loggers)

    def log(self, source: str, level: int, filename: str, line: int, message: str) -> None:
        if not self._enabled or level < self._level:
            return
        with self._lock:
            loggers = list(self._loggers)
        for handle in loggers:
            handle.fn(source, level, filename, line, message)


_logging = ILogging()


def acquire_logging() -> ILogging:
    return _logging
