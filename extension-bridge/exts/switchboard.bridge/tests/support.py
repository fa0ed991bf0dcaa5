"""Shared test helpers: paths, and running one job on a private loop with a real watchdog."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

TESTS = os.path.dirname(os.path.abspath(__file__))
EXT_ROOT = os.path.dirname(TESTS)
STANDIN = os.path.join(TESTS, "kit_standin")
if EXT_ROOT not in sys.path:
    sys.path.insert(0, EXT_ROOT)

from switchboard.bridge import capture, runner  # noqa: E402
from switchboard.bridge.watchdog import Watchdog  # noqa: E402


def use_kit_standin() -> None:
    """Makes the stand-in's omni/carb/pxr importable (idempotent)."""
    if STANDIN not in sys.path:
        sys.path.insert(0, STANDIN)


def run_job(code: str, timeout_ms: int = 0, policy=None, extras=None, cancel_after: float | None = None):
    """Runs ``code`` as a job on a fresh loop in this thread; returns (outcome, output text)."""
    loop = asyncio.new_event_loop()
    watchdog = Watchdog()
    watchdog.start()
    capture.install()
    job = runner.Job("t_test", code, timeout_ms)
    timer = threading.Timer(cancel_after, watchdog.stop, (job, "cancelled")) if cancel_after else None
    try:
        watchdog.watch(job)
        if timer:
            timer.start()
        outcome = loop.run_until_complete(runner.run(job, policy, extras))
    finally:
        if timer:
            timer.cancel()
        watchdog.close()
        capture.uninstall()
        loop.close()
    return outcome, "".join(text for _, text in job.output.drain())
