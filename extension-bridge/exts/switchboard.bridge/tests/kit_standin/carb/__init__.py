"""Stand-in for carb: ``carb.log_*`` go through carb.logging (its registered loggers), then to stderr."""

import sys

from . import logging, settings  # noqa: F401  (Kit's carb exposes carb.settings and carb.logging)


def _log(level: int, name: str, message: str) -> None:
    # Kit names the source after the calling module, as carb.log_* do (origin_stack_depth=1).
    frame = sys._getframe(2)
    source = frame.f_globals.get("__name__", "python")
    logging.acquire_logging().log(source, level, frame.f_code.co_filename, frame.f_lineno, message)
    print(f"[carb {name}] {message}", file=sys.__stderr__)


def log_verbose(message: str) -> None:
    _log(logging.LEVEL_VERBOSE, "verbose", message)


def log_info(message: str) -> None:
    _log(logging.LEVEL_INFO, "info", message)


def log_warn(message: str) -> None:
    _log(logging.LEVEL_WARN, "warn", message)


def log_error(message: str) -> None:
    _log(logging.LEVEL_ERROR, "error", message)


def log_fatal(message: str) -> None:
    _log(logging.LEVEL_FATAL, "fatal", message)
