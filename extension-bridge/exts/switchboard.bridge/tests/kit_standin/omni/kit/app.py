"""Stand-in for omni.kit.app: a fake app whose frame loop runs on the main thread's asyncio loop.

Kit runs its asyncio loop on the main thread between frames; so does ``run()`` here. Each frame pops the
update event stream and resolves ``next_update_async`` waiters, then lets the loop run for one frame time.
"""

from __future__ import annotations

import asyncio
import time
from typing import Callable

FRAME_S = 1 / 60


class _Event:
    def __init__(self, dt: float) -> None:
        self.payload = {"dt": dt}


class _Subscription:
    def __init__(self, stream: _EventStream, fn) -> None:
        self._stream, self._fn = stream, fn

    def unsubscribe(self) -> None:
        if self in self._stream.subscriptions:
            self._stream.subscriptions.remove(self)


class _EventStream:
    def __init__(self) -> None:
        self.subscriptions: list[_Subscription] = []

    def create_subscription_to_pop(self, fn, name: str = "") -> _Subscription:
        sub = _Subscription(self, fn)
        self.subscriptions.append(sub)
        return sub

    def dispatch(self, event: _Event) -> None:
        for sub in list(self.subscriptions):
            sub._fn(event)


class _App:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)  # the main thread's loop, as in Kit
        self.updates = 0
        self._stream = _EventStream()
        self._waiters: list[asyncio.Future] = []

    def get_app_name(self) -> str:
        return "kit-standin"

    def get_app_version(self) -> str:
        return "106.0.0"

    def get_update_event_stream(self) -> _EventStream:
        return self._stream

    async def next_update_async(self) -> float:
        future = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        return await future

    def update(self) -> None:
        """One frame, on the main thread."""
        self.tick()
        self.loop.run_until_complete(asyncio.sleep(FRAME_S))

    def tick(self) -> None:
        """A frame's work without the wait (omni.kit.test's frame pump calls it from inside a running loop)."""
        self.updates += 1
        waiters, self._waiters = self._waiters, []
        for future in waiters:
            if not future.done():
                future.set_result(FRAME_S)
        self._stream.dispatch(_Event(FRAME_S))

    def run(self, seconds: float | None = None, until: Callable[[], bool] | None = None) -> None:
        """Frames until ``until()`` is true or ``seconds`` have passed."""
        end = time.monotonic() + seconds if seconds is not None else float("inf")
        while time.monotonic() < end and not (until and until()):
            self.update()


_app: _App | None = None


def get_app() -> _App:
    global _app
    if _app is None:
        _app = _App()
    return _app
