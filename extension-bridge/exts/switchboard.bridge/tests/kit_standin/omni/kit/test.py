"""Stand-in for omni.kit.test: ``AsyncTestCase`` is ``unittest.IsolatedAsyncioTestCase``, as Kit's test runner
would run it: test methods, ``setUp`` and ``tearDown`` may be coroutines, and the app keeps ticking frames
while a test awaits (``omni.kit.app.get_app().next_update_async()`` returns after the next frame).

Run under plain Python: ``PYTHONPATH=tests/kit_standin python3 -m unittest switchboard.bridge.tests``.
"""

from __future__ import annotations

import asyncio
import inspect
import unittest

import omni.kit.app


class AsyncTestCase(unittest.IsolatedAsyncioTestCase):
    # IsolatedAsyncioTestCase (Python 3.11) calls setUp/tearDown synchronously; Kit's AsyncTestCase awaits
    # them when they are coroutines. These two hooks are where 3.11 calls them.
    def _callSetUp(self) -> None:
        self._callAsync(self._kit_set_up)

    def _callTearDown(self) -> None:
        self._callAsync(self._kit_tear_down)

    async def _kit_set_up(self) -> None:
        self._frames = asyncio.ensure_future(_tick_frames())
        await _maybe_await(self.setUp())
        await self.asyncSetUp()

    async def _kit_tear_down(self) -> None:
        try:
            await self.asyncTearDown()
            await _maybe_await(self.tearDown())
        finally:
            self._frames.cancel()
            await asyncio.gather(self._frames, return_exceptions=True)


async def _maybe_await(value) -> None:
    if inspect.isawaitable(value):
        await value


async def _tick_frames() -> None:
    """Kit's frame loop, on the test's loop (Kit's main loop runs its tests): one frame per FRAME_S."""
    app = omni.kit.app.get_app()
    while True:
        app.tick()
        await asyncio.sleep(omni.kit.app.FRAME_S)
