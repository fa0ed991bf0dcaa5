"""Per-job stdout/stderr capture.

Kit has one process-wide ``sys.stdout``, shared by every job, by Kit itself and by the bridge's own logging.
A context variable names the job whose code is running; ``sys.stdout`` and ``sys.stderr`` are replaced by
proxies that send writes to that job's buffer and everything else to the stream they replaced. asyncio
tasks copy their context, so a job's output stays its own even while several jobs interleave at awaits.
"""

from __future__ import annotations

import contextvars
import sys
import threading

_sink: contextvars.ContextVar[OutputBuffer | None] = contextvars.ContextVar("switchboard_job", default=None)
_install_lock = threading.Lock()
_installs = 0

NOTICE = "\n[switchboard: {count} characters of output dropped: written faster than the hub took them]\n"


class OutputBuffer:
    """One job's output: appended from the job's thread, drained by the hub thread.

    It is bounded: past ``max_chars`` waiting to be sent, further text is counted and dropped, and a notice
    saying how much was lost goes out with the next drain.
    """

    def __init__(self, max_chars: int = 1_000_000) -> None:
        self._lock = threading.Lock()
        self._parts: list[tuple[str, list[str]]] = []
        self._size = 0
        self._dropped = 0
        self._max = max_chars

    def write(self, stream: str, text: str) -> None:
        if not text:
            return
        with self._lock:
            if self._size + len(text) > self._max:
                self._dropped += len(text)
                return
            self._size += len(text)
            if self._parts and self._parts[-1][0] == stream:
                self._parts[-1][1].append(text)
            else:
                self._parts.append((stream, [text]))

    def drain(self, chunk_chars: int = 64 * 1024) -> list[tuple[str, str]]:
        """Everything written so far, in order, as (stream, text) chunks of at most ``chunk_chars``."""
        with self._lock:
            parts, dropped = self._parts, self._dropped
            self._parts, self._size, self._dropped = [], 0, 0
        chunks = []
        for stream, pieces in parts:
            text = "".join(pieces)
            chunks.extend((stream, text[i : i + chunk_chars]) for i in range(0, len(text), chunk_chars))
        if dropped:
            chunks.append(("stderr", NOTICE.format(count=dropped)))
        return chunks

    def __bool__(self) -> bool:
        with self._lock:
            return bool(self._parts or self._dropped)


class _StreamProxy:
    """Stands in for sys.stdout or sys.stderr; anything it does not define goes to the stream it replaced."""

    def __init__(self, name: str, original) -> None:
        self._name = name
        self._original = original

    def write(self, text: str) -> int:
        sink = _sink.get()
        if sink is None:
            return self._original.write(text)
        sink.write(self._name, str(text))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if _sink.get() is None:
            self._original.flush()

    def isatty(self) -> bool:
        return False if _sink.get() is not None else self._original.isatty()

    def __getattr__(self, name: str):
        return getattr(self._original, name)


def install() -> None:
    """Puts the proxies in place; counted, so the bridge and tests may each install and uninstall."""
    global _installs
    with _install_lock:
        _installs += 1
        if _installs == 1:
            sys.stdout = _StreamProxy("stdout", sys.stdout)
            sys.stderr = _StreamProxy("stderr", sys.stderr)


def uninstall() -> None:
    """Restores the original streams, unless someone replaced our proxies since (then they stay, harmless)."""
    global _installs
    with _install_lock:
        _installs = max(0, _installs - 1)
        if _installs:
            return
        for name in ("stdout", "stderr"):
            current = getattr(sys, name)
            if isinstance(current, _StreamProxy):
                setattr(sys, name, current._original)


def redirect_to(buffer: OutputBuffer | None) -> contextvars.Token:
    """Sends this context's (and the tasks it creates') prints to ``buffer``; undo with ``restore``."""
    return _sink.set(buffer)


def restore(token: contextvars.Token) -> None:
    _sink.reset(token)
