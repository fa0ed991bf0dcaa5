"""Stand-in for carb: logging goes to stderr."""

import sys

from . import settings  # noqa: F401  (Kit's carb exposes carb.settings once imported)


def _log(level: str, message: str) -> None:
    print(f"[carb {level}] {message}", file=sys.__stderr__)


def log_info(message: str) -> None:
    _log("info", message)


def log_warn(message: str) -> None:
    _log("warn", message)


def log_error(message: str) -> None:
    _log("error", message)
