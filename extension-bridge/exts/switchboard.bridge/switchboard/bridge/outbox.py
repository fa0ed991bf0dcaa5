"""What the bridge owes the hub about each job: ``job:started``, its output, then ``job:result``.

It is state, not a queue of messages. While the link is registered, ``pump`` sends it, in that order per job,
every ``TICK_S``; while it is not, nothing is sent (the hub must see ``register`` on a new connection first)
and the output waits in the job's bounded buffer. A result stays until the hub acknowledges it and is sent
again after a reconnect, so a job counts as running here until then. Used on the hub link's loop only.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass, field

from .capture import OutputBuffer

log = logging.getLogger(__name__)
TICK_S = 0.05  # output reaches the hub at most this long after it was written
MAX_RUNNING = 64  # the contract's cap on `running`
# With a hub that offers `result-report`: a job that ends within this long is reported in one message (its
# start and output folded into job:result); a longer one is told started, with its output so far, after it.
FOLD_WINDOW_S = float(os.environ.get("SWITCHBOARD_FOLD_WINDOW_MS", "250")) / 1000


@dataclass(eq=False)
class Owed:
    task_id: str
    output: OutputBuffer
    attempt: int = 0
    started_sent: bool = False
    result: dict | None = None
    result_sent_at: float | None = None
    stuck: bool = False  # the job ignores being stopped: the hub is told once per connection
    stuck_sent: bool = False
    since: float = field(default_factory=time.monotonic)
    folded: list | None = None  # the output sent inside job:result (result-report), kept for a re-send


class Outbox:
    def __init__(self, ack_timeout_s: float) -> None:
        self._jobs: dict[str, Owed] = {}
        self._ack_timeout_s = ack_timeout_s
        self._wake: asyncio.Event | None = None
        self.logs = None  # kit_log.LogBuffer when Kit log forwarding is on: drained as `host:log`
        self.paused = False  # the user paused taking jobs; `register` carries it, `host:paused` changes it
        self._paused_sent: bool | None = None
        self.fold = False  # the hub offered `result-report` in its last registration

    def job_started(self, task_id: str, output: OutputBuffer, attempt: int = 0) -> None:
        self._jobs[task_id] = Owed(task_id, output, attempt)
        self._poke()

    def job_finished(self, task_id: str, result: dict) -> None:
        owed = self._jobs.get(task_id)
        if owed is not None:
            owed.result = result
            self._poke()

    def job_stuck(self, task_id: str) -> None:
        owed = self._jobs.get(task_id)
        if owed is not None and owed.result is None:
            owed.stuck = True
            self._poke()

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self._poke()

    def forget(self, task_id: str) -> None:
        """Drops whatever is still owed for the task (an attempt the hub replaced)."""
        self._jobs.pop(task_id, None)

    def result_attempt(self, task_id: str) -> int | None:
        """The attempt whose finished result waits here for the hub's ack, if any."""
        owed = self._jobs.get(task_id)
        return owed.attempt if owed is not None and owed.result is not None else None

    def carry_over(self, task_id: str, attempt: int) -> None:
        """Reports the finished result as the hub's new attempt of the task (it re-sent the job before our
        result reached it, e.g. after its restart): job:started, then the result, under the new attempt. A new
        record, so the ack of a send under the old attempt cannot drop it."""
        owed = self._jobs.get(task_id)
        if owed is None or owed.result is None:
            return
        self._jobs[task_id] = Owed(task_id, owed.output, attempt, result=owed.result)
        self._poke()

    def result_status(self, task_id: str) -> str | None:
        owed = self._jobs.get(task_id)
        return owed.result["status"] if owed is not None and owed.result is not None else None

    def __contains__(self, task_id: str) -> bool:
        return task_id in self._jobs

    def running_ids(self) -> list[str]:
        """Running here, or ended with the result not acknowledged: what `register` and `heartbeat` report."""
        return list(self._jobs)[:MAX_RUNNING]

    def connection_lost(self) -> None:
        for owed in self._jobs.values():
            owed.result_sent_at = None  # its ack will never come: send again after the next registration
            owed.stuck_sent = False
        self._paused_sent = None

    async def pump(self, emit) -> None:
        """Sends what is owed until cancelled; ``emit(event, body, on_ack)`` is the connection's send."""
        self._wake = asyncio.Event()
        self._paused_sent = self.paused  # the registration that preceded the pump carried it
        while True:
            await wait_event(self._wake, TICK_S)
            self._wake.clear()
            if self._paused_sent != self.paused:
                self._paused_sent = self.paused
                await emit("host:paused", {"paused": self.paused}, None)
            # Log lines first: those a job logged must reach the hub before its result ends the task's room.
            if self.logs is not None and len(self.logs):
                lines, dropped = self.logs.drain()
                await emit("host:log", {"lines": lines, "dropped": dropped} if dropped else {"lines": lines}, None)
            for owed in list(self._jobs.values()):
                await self._send(owed, emit)

    async def _send(self, owed: Owed, emit) -> None:
        ref = {"taskId": owed.task_id, "attempt": owed.attempt} if owed.attempt else {"taskId": owed.task_id}
        if not owed.started_sent and self.fold and FOLD_WINDOW_S > 0 and not owed.stuck:
            if owed.result is None and time.monotonic() - owed.since < FOLD_WINDOW_S:
                return  # held: if the job ends within the window, one job:result says it all
            if owed.result is not None:
                owed.folded = [{"stream": stream, "text": text} for stream, text in owed.output.drain()]
                owed.started_sent = True
        if owed.folded is not None and not self.fold:
            # Folded for a hub that offered result-report, re-sent to one that does not: separate reports.
            await emit("job:started", ref, None)
            for part in owed.folded:
                await emit("job:output", dict(ref, **part), None)
            owed.folded = None
        if not owed.started_sent:
            await emit("job:started", ref, None)
            owed.started_sent = True
        for stream, text in owed.output.drain():
            await emit("job:output", dict(ref, stream=stream, text=text), None)
        if owed.stuck and not owed.stuck_sent and owed.result is None:
            owed.stuck_sent = True
            message = "the job ignores being stopped (blocked in a call the interrupt cannot reach)"
            await emit("job:stuck", dict(ref, message=message), None)
        now = time.monotonic()
        due = owed.result_sent_at is None or now - owed.result_sent_at > self._ack_timeout_s
        if owed.result is not None and due and not owed.output:
            owed.result_sent_at = now
            body = dict(owed.result, **ref)
            if owed.folded is not None:
                body["output"] = owed.folded
            await emit("job:result", body, lambda ack: self._acked(owed, ack))

    def _acked(self, owed: Owed, ack) -> None:
        if self._jobs.get(owed.task_id) is owed:
            del self._jobs[owed.task_id]
        if isinstance(ack, dict) and not ack.get("ok"):
            # e.g. the hub ended the task meanwhile (timeout, or re-queued after its restart): nothing to redo
            log.warning("job:result %s not taken: %s", owed.task_id, ack.get("error"))

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()


async def wait_event(event: asyncio.Event, timeout: float) -> None:
    """Waits for the event or the timeout. Not wait_for: Python 3.11's drops a cancel that lands just as the
    wait ends, and the task would carry on after its connection was torn down."""
    waiter = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait([waiter], timeout=timeout)
    finally:
        waiter.cancel()
