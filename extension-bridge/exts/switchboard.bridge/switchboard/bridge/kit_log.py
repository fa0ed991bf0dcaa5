"""Kit log forwarding: a carb logger that passes the app's log lines at or above a level to the hub.

carb calls a registered logger on whatever thread logs, as ``fn(source, level, filename, line, message)``;
the line is tagged with the job it was logged for (the job whose code runs on that thread, else the only job
running) and put in a bounded buffer the hub link drains. Lines logged on the hub link's own thread are
skipped: forwarding them could feed on itself.
"""

from __future__ import annotations

import collections
import threading
import time

# carb.logging's levels; the wire uses their names.
LEVELS = {"verbose": -2, "info": -1, "warn": 0, "error": 1, "fatal": 2}
NAMES = {value: name for name, value in LEVELS.items()}
MAX_MESSAGE_CHARS = 16_384
SKIP_THREADS = ("switchboard-hub",)


def level_name(level: int) -> str:
    if level in NAMES:
        return NAMES[level]
    return "verbose" if level < -2 else "fatal"


class LogBuffer:
    """Lines waiting for the hub, oldest dropped past ``max_lines`` (and counted); safe from any thread."""

    def __init__(self, max_lines: int = 1000) -> None:
        self._lock = threading.Lock()
        self._lines: collections.deque = collections.deque(maxlen=max_lines)
        self.dropped = 0

    def add(self, line: dict) -> None:
        with self._lock:
            if len(self._lines) == self._lines.maxlen:
                self.dropped += 1
            self._lines.append(line)

    def drain(self, limit: int = 200) -> tuple[list[dict], int]:
        """Up to ``limit`` lines, oldest first, and how many were dropped since the last drain."""
        with self._lock:
            lines = [self._lines.popleft() for _ in range(min(limit, len(self._lines)))]
            dropped, self.dropped = self.dropped, 0
        return lines, dropped

    def __len__(self) -> int:
        with self._lock:
            return len(self._lines)


class LogForwarder:
    """Registers with ``carb.logging`` on ``start()``, unregisters on ``stop()``."""

    def __init__(self, level: str, buffer: LogBuffer, job_for_line=None) -> None:
        if level not in LEVELS:
            raise ValueError(f"log level must be one of {', '.join(LEVELS)}, got {level!r}")
        self.threshold = LEVELS[level]
        self.buffer = buffer
        self._job_for_line = job_for_line or (lambda: None)
        self._logging = None
        self._handle = None

    def start(self) -> None:
        import carb.logging

        self._logging = carb.logging.acquire_logging()
        self._handle = self._logging.add_logger(self._on_log)

    def stop(self) -> None:
        if self._logging is not None and self._handle is not None:
            self._logging.remove_logger(self._handle)
        self._logging = self._handle = None

    def _on_log(self, source, level, filename, line_number, message) -> None:
        # Called by carb on the logging thread: it must never raise, and never block for long.
        try:
            if level < self.threshold or threading.current_thread().name in SKIP_THREADS:
                return
            line = {
                "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z",
                "level": level_name(level),
                "source": str(source or "")[:256],
                "message": str(message).rstrip("\n")[:MAX_MESSAGE_CHARS],
            }
            task_id = self._job_for_line()
            if task_id:
                line["taskId"] = task_id
            self.buffer.add(line)
        except Exception:
            pass
