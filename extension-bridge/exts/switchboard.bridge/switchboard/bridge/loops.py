"""Where jobs run: Kit's main loop, or a job thread of the bridge's own outside Kit.

Either way all jobs share one thread and one asyncio loop, as they would in Kit: jobs that await interleave,
and a job that computes holds the others (and, in Kit, the frame) until it yields or is stopped.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from typing import Awaitable, Callable

log = logging.getLogger(__name__)
MakeJob = Callable[[], Awaitable[dict]]


class ThreadLoop:
    """A thread running an asyncio loop for the jobs (headless bridge)."""

    def __init__(self, name: str = "switchboard-jobs") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()
        # Jobs still pending here were given up on by close(): let them end, then free the loop's resources.
        pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in pending:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.run_until_complete(self.loop.shutdown_default_executor())
        self.loop.close()

    def submit(self, make: MakeJob) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(make(), self.loop)

    def close(self, timeout: float = 5.0) -> None:
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("the job thread did not stop within %.0f s: a job ignores being stopped", timeout)


class KitLoop:
    """Kit's main-thread loop: jobs may touch the stage and the UI as any extension code does.

    Created on the main thread (in ``on_startup``), where ``get_event_loop`` returns Kit's loop.
    """

    def __init__(self, next_update: Callable[[], Awaitable[object]]) -> None:
        self.loop = asyncio.get_event_loop()
        self._next_update = next_update

    def submit(self, make: MakeJob) -> concurrent.futures.Future:
        async def after_update() -> dict:
            # Start between frames, not inside whatever the main thread is doing right now.
            await self._next_update()
            return await make()

        return asyncio.run_coroutine_threadsafe(after_update(), self.loop)

    def close(self, timeout: float = 5.0) -> None:
        """Nothing to stop: the loop is Kit's."""
